import { registerAs } from '@nestjs/config';
import { IsBoolean, IsIn, IsInt, IsString, Matches, Max, Min, MinLength } from 'class-validator';
import { resolve } from 'node:path';
import { ConfigError } from './config-error';
import { EnvBoolean, EnvInteger, EnvList } from './env-transforms';
import { Env, validateEnv } from './validate-env';

export const NODE_ENVS = ['development', 'production', 'test'] as const;
export type NodeEnv = (typeof NODE_ENVS)[number];
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

class AppEnv {
  @IsIn(NODE_ENVS)
  NODE_ENV: NodeEnv = 'development';

  @IsString()
  @MinLength(1)
  HOST = '127.0.0.1';

  @EnvInteger()
  @Min(0)
  @Max(65535)
  @IsInt()
  PORT = 3000;

  @IsIn(LOG_LEVELS)
  LOG_LEVEL: (typeof LOG_LEVELS)[number] = 'info';

  @EnvList()
  @Matches(/^(\*|https?:\/\/[^\s/]+)$/, {
    each: true,
    message: 'each origin must be "*" or a scheme and host such as https://admin.example.com',
  })
  CORS_ORIGINS: string[] = [];

  @EnvInteger()
  @Min(1024)
  @Max(64 * 1024 * 1024)
  @IsInt()
  BODY_LIMIT = 1024 * 1024;

  @EnvInteger()
  @Min(1)
  @IsInt()
  THROTTLE_LIMIT = 300;

  @EnvInteger()
  @Min(1)
  @IsInt()
  THROTTLE_TTL_SECONDS = 60;

  @EnvInteger()
  @Min(1)
  @IsInt()
  REVEAL_RATE_LIMIT = 6000;

  // A test hook (src/common/clock.ts): this instance's clock this many ms off.
  @EnvInteger()
  @Min(-86_400_000)
  @Max(86_400_000)
  @IsInt()
  CUSTOS_CLOCK_SKEW_MS = 0;

  @EnvBoolean()
  @IsBoolean()
  TRUST_PROXY = false;

  @IsString()
  @MinLength(1)
  CUSTOS_DATA_DIR = './data';

  @EnvInteger()
  @Min(1)
  @IsInt()
  SHUTDOWN_TIMEOUT_MS = 10_000;
}

export interface AppConfig {
  nodeEnv: NodeEnv;
  isProduction: boolean;
  host: string;
  port: number;
  logLevel: (typeof LOG_LEVELS)[number];
  corsOrigins: string[];
  bodyLimit: number;
  throttle: { limit: number; ttlMs: number };
  /** Reveals a minute per principal (all reveal routes together, per instance). */
  revealRateLimit: number;
  trustProxy: boolean;
  dataDir: string;
  shutdownTimeoutMs: number;
}

export function loadAppConfig(env: Env): AppConfig {
  const v = validateEnv(AppEnv, env);
  if (v.CUSTOS_CLOCK_SKEW_MS !== 0 && v.NODE_ENV === 'production') {
    throw new ConfigError(['CUSTOS_CLOCK_SKEW_MS: a test hook, not allowed in production']);
  }
  return {
    nodeEnv: v.NODE_ENV,
    isProduction: v.NODE_ENV === 'production',
    host: v.HOST,
    port: v.PORT,
    logLevel: v.LOG_LEVEL,
    corsOrigins: v.CORS_ORIGINS,
    bodyLimit: v.BODY_LIMIT,
    throttle: { limit: v.THROTTLE_LIMIT, ttlMs: v.THROTTLE_TTL_SECONDS * 1000 },
    revealRateLimit: v.REVEAL_RATE_LIMIT,
    trustProxy: v.TRUST_PROXY,
    dataDir: resolve(v.CUSTOS_DATA_DIR),
    shutdownTimeoutMs: v.SHUTDOWN_TIMEOUT_MS,
  };
}

export const appConfig = registerAs('app', () => loadAppConfig(process.env));
