import { registerAs } from '@nestjs/config';
import { IsBoolean, IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { readFileSync } from 'node:fs';
import { loadAppConfig } from './app.config';
import { ConfigError } from './config-error';
import { EnvBoolean, EnvInteger, EnvList } from './env-transforms';
import { Env, validateEnv } from './validate-env';

/** A host name, or `*.` and a domain for any name below it. */
const HOST_PATTERN = /^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i;

class OutboundEnv {
  /** Plain http sends webhook bodies (rotated values among them) readable on the wire. */
  @EnvBoolean()
  @IsBoolean()
  CUSTOS_OUTBOUND_ALLOW_HTTP = false;

  /** For tests only: a receiver on this machine. Refused in production. */
  @EnvBoolean()
  @IsBoolean()
  CUSTOS_OUTBOUND_ALLOW_LOOPBACK = false;

  /** RFC 1918, CGNAT (100.64/10) and unique-local IPv6: internal receivers, by explicit choice. */
  @EnvBoolean()
  @IsBoolean()
  CUSTOS_OUTBOUND_ALLOW_PRIVATE = false;

  @EnvList()
  @Matches(HOST_PATTERN, {
    each: true,
    message: 'each entry must be a host name such as hooks.example.com or *.example.com',
  })
  CUSTOS_OUTBOUND_HOSTS: string[] = [];

  @IsOptional()
  @IsString()
  CUSTOS_OUTBOUND_CA_FILE?: string;

  @EnvInteger()
  @Min(100)
  @Max(300_000)
  @IsInt()
  CUSTOS_OUTBOUND_TIMEOUT_MS = 10_000;

  @EnvInteger()
  @Min(1024)
  @Max(16 * 1024 * 1024)
  @IsInt()
  CUSTOS_OUTBOUND_MAX_RESPONSE_BYTES = 64 * 1024;

  @EnvInteger()
  @Min(0)
  @Max(10)
  @IsInt()
  CUSTOS_OUTBOUND_MAX_REDIRECTS = 0;
}

export interface OutboundConfig {
  allowHttp: boolean;
  allowLoopback: boolean;
  allowPrivate: boolean;
  /** Lower-case host patterns; empty means any host (the address checks still apply). */
  hosts: string[];
  /** PEM certificates trusted besides the system's roots, read at start-up. */
  extraCa?: string;
  timeoutMs: number;
  maxResponseBytes: number;
  /** 0: a redirect is an answer like any other (not 2xx, so a failure). */
  maxRedirects: number;
}

export function loadOutboundConfig(env: Env): OutboundConfig {
  const v = validateEnv(OutboundEnv, env);
  if (v.CUSTOS_OUTBOUND_ALLOW_LOOPBACK && loadAppConfig(env).isProduction) {
    throw new ConfigError([
      'CUSTOS_OUTBOUND_ALLOW_LOOPBACK: lets webhooks reach this machine; tests only, refused in production',
    ]);
  }
  return {
    allowHttp: v.CUSTOS_OUTBOUND_ALLOW_HTTP,
    allowLoopback: v.CUSTOS_OUTBOUND_ALLOW_LOOPBACK,
    allowPrivate: v.CUSTOS_OUTBOUND_ALLOW_PRIVATE,
    hosts: v.CUSTOS_OUTBOUND_HOSTS.map((host) => host.toLowerCase()),
    extraCa: v.CUSTOS_OUTBOUND_CA_FILE ? readCaFile(v.CUSTOS_OUTBOUND_CA_FILE) : undefined,
    timeoutMs: v.CUSTOS_OUTBOUND_TIMEOUT_MS,
    maxResponseBytes: v.CUSTOS_OUTBOUND_MAX_RESPONSE_BYTES,
    maxRedirects: v.CUSTOS_OUTBOUND_MAX_REDIRECTS,
  };
}

function readCaFile(path: string): string {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError([
      `CUSTOS_OUTBOUND_CA_FILE: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    ]);
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new ConfigError([`CUSTOS_OUTBOUND_CA_FILE: ${path} holds no PEM certificate`]);
  }
  return pem;
}

export const outboundConfig = registerAs('outbound', () => loadOutboundConfig(process.env));
