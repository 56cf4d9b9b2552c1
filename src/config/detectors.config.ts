import { registerAs } from '@nestjs/config';
import { IsBoolean, IsInt, Max, Min } from 'class-validator';
import { durationSeconds } from '../common/duration';
import { IsDurationBetween } from './env-duration';
import { EnvBoolean, EnvInteger } from './env-transforms';
import { Env, validateEnv } from './validate-env';

class DetectorsEnv {
  /** Off on an instance that should serve requests only; another instance runs the passes. */
  @EnvBoolean()
  @IsBoolean()
  DETECTORS_ENABLED = true;

  /** How often each instance asks whether a detector pass is due. */
  @IsDurationBetween(1, 3600, 'PT30S')
  DETECTORS_TICK = 'PT30S';

  /**
   * Audit events younger than this are left to the next pass: the log's seq is taken when an
   * event is written, so a transaction that commits a moment later can add an event below the
   * cursor; waiting this long lets it land first.
   */
  @IsDurationBetween(0, 600, 'PT5S')
  DETECTORS_SETTLE = 'PT5S';

  @EnvBoolean()
  @IsBoolean()
  DETECT_BRUTE_FORCE_ENABLED = true;

  @EnvInteger()
  @Min(2)
  @Max(10_000)
  @IsInt()
  DETECT_BRUTE_FORCE_ACCOUNT_THRESHOLD = 10;

  @EnvInteger()
  @Min(2)
  @Max(100_000)
  @IsInt()
  DETECT_BRUTE_FORCE_IP_THRESHOLD = 20;

  @IsDurationBetween(10, 86_400, 'PT10M')
  DETECT_BRUTE_FORCE_WINDOW = 'PT10M';

  @EnvBoolean()
  @IsBoolean()
  DETECT_MASS_REVEAL_ENABLED = true;

  @EnvInteger()
  @Min(2)
  @Max(100_000)
  @IsInt()
  DETECT_MASS_REVEAL_THRESHOLD = 20;

  @IsDurationBetween(10, 86_400, 'PT5M')
  DETECT_MASS_REVEAL_WINDOW = 'PT5M';

  /** Disable the user (or service account) that set the detector off, until a person looks. */
  @EnvBoolean()
  @IsBoolean()
  DETECT_MASS_REVEAL_SUSPEND = false;

  @EnvBoolean()
  @IsBoolean()
  DETECT_ROTATION_FAILURE_ENABLED = true;

  @EnvInteger()
  @Min(1)
  @Max(1000)
  @IsInt()
  DETECT_ROTATION_FAILURE_THRESHOLD = 3;

  @IsDurationBetween(60, 30 * 86_400, 'P1D')
  DETECT_ROTATION_FAILURE_WINDOW = 'P1D';

  @EnvBoolean()
  @IsBoolean()
  DETECT_AUDIT_TAMPER_ENABLED = true;

  /** Verification reads the whole chain, so it runs seldom and on one instance at a time. */
  @IsDurationBetween(60, 7 * 86_400, 'PT1H')
  DETECT_AUDIT_TAMPER_INTERVAL = 'PT1H';

  /** A chain still broken after this long opens a new incident instead of adding to the old one. */
  @IsDurationBetween(60, 30 * 86_400, 'P1D')
  DETECT_AUDIT_TAMPER_WINDOW = 'P1D';
}

export interface BurstDetectorConfig {
  enabled: boolean;
  threshold: number;
  /** The sliding window the threshold applies to, and the incident dedupe window. */
  windowSeconds: number;
}

export interface DetectorsConfig {
  enabled: boolean;
  tickMs: number;
  settleMs: number;
  bruteForce: BurstDetectorConfig & { ipThreshold: number };
  massReveal: BurstDetectorConfig & { suspend: boolean };
  rotationFailure: BurstDetectorConfig;
  auditTamper: { enabled: boolean; intervalMs: number; windowSeconds: number };
}

export function loadDetectorsConfig(env: Env): DetectorsConfig {
  const v = validateEnv(DetectorsEnv, env);
  return {
    enabled: v.DETECTORS_ENABLED,
    tickMs: durationSeconds(v.DETECTORS_TICK) * 1000,
    settleMs: durationSeconds(v.DETECTORS_SETTLE) * 1000,
    bruteForce: {
      enabled: v.DETECT_BRUTE_FORCE_ENABLED,
      threshold: v.DETECT_BRUTE_FORCE_ACCOUNT_THRESHOLD,
      ipThreshold: v.DETECT_BRUTE_FORCE_IP_THRESHOLD,
      windowSeconds: durationSeconds(v.DETECT_BRUTE_FORCE_WINDOW),
    },
    massReveal: {
      enabled: v.DETECT_MASS_REVEAL_ENABLED,
      threshold: v.DETECT_MASS_REVEAL_THRESHOLD,
      windowSeconds: durationSeconds(v.DETECT_MASS_REVEAL_WINDOW),
      suspend: v.DETECT_MASS_REVEAL_SUSPEND,
    },
    rotationFailure: {
      enabled: v.DETECT_ROTATION_FAILURE_ENABLED,
      threshold: v.DETECT_ROTATION_FAILURE_THRESHOLD,
      windowSeconds: durationSeconds(v.DETECT_ROTATION_FAILURE_WINDOW),
    },
    auditTamper: {
      enabled: v.DETECT_AUDIT_TAMPER_ENABLED,
      intervalMs: durationSeconds(v.DETECT_AUDIT_TAMPER_INTERVAL) * 1000,
      windowSeconds: durationSeconds(v.DETECT_AUDIT_TAMPER_WINDOW),
    },
  };
}

export const detectorsConfig = registerAs('detectors', () => loadDetectorsConfig(process.env));
