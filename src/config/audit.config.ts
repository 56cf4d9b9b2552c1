import { registerAs } from '@nestjs/config';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import { join } from 'node:path';
import { loadAppConfig } from './app.config';
import { EnvBoolean, EnvInteger, EnvList } from './env-transforms';
import { Env, validateEnv } from './validate-env';

export const AUDIT_SINK_KINDS = ['stdout', 'file'] as const;
export type AuditSinkKind = (typeof AUDIT_SINK_KINDS)[number];

class AuditEnv {
  @EnvInteger()
  @Min(1)
  @Max(64)
  @IsInt()
  AUDIT_LANES = 8;

  @EnvList()
  @IsIn([...AUDIT_SINK_KINDS, 'none'], { each: true })
  AUDIT_SINKS: (AuditSinkKind | 'none')[] = ['file'];

  @IsOptional()
  @IsString()
  AUDIT_FILE_PATH?: string;

  @EnvBoolean()
  @IsBoolean()
  AUDIT_EXCLUDE_PROBES = true;

  @EnvInteger()
  @Min(100)
  @Max(60_000)
  @IsInt()
  AUDIT_RELAY_INTERVAL_MS = 1000;

  @EnvInteger()
  @Min(1)
  @IsInt()
  AUDIT_OUTBOX_BACKLOG_WARN = 10_000;

  @EnvInteger()
  @Min(10)
  @IsInt()
  AUDIT_CHECKPOINT_EVERY_EVENTS = 1000;

  @EnvInteger()
  @Min(1)
  @IsInt()
  AUDIT_CHECKPOINT_INTERVAL_SECONDS = 300;
}

export interface AuditConfig {
  lanes: number;
  sinks: AuditSinkKind[];
  filePath: string;
  excludeProbes: boolean;
  relayIntervalMs: number;
  backlogWarn: number;
  checkpointEveryEvents: number;
  checkpointIntervalMs: number;
}

export function loadAuditConfig(env: Env): AuditConfig {
  const v = validateEnv(AuditEnv, env);
  return {
    lanes: v.AUDIT_LANES,
    sinks: [...new Set(v.AUDIT_SINKS.filter((sink): sink is AuditSinkKind => sink !== 'none'))],
    filePath: v.AUDIT_FILE_PATH ?? join(loadAppConfig(env).dataDir, 'audit.ndjson'),
    excludeProbes: v.AUDIT_EXCLUDE_PROBES,
    relayIntervalMs: v.AUDIT_RELAY_INTERVAL_MS,
    backlogWarn: v.AUDIT_OUTBOX_BACKLOG_WARN,
    checkpointEveryEvents: v.AUDIT_CHECKPOINT_EVERY_EVENTS,
    checkpointIntervalMs: v.AUDIT_CHECKPOINT_INTERVAL_SECONDS * 1000,
  };
}

export const auditConfig = registerAs('audit', () => loadAuditConfig(process.env));
