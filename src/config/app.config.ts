import { registerAs } from '@nestjs/config';
import { IsBoolean, IsIn, IsInt, IsString, Matches, Max, Min, MinLength } from 'class-validator';
import { resolve } from 'node:path';
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
  trustProxy: boolean;
  dataDir: string;
  shutdownTimeoutMs: number;
}

export function loadAppConfig(env: Env): AppConfig {
  const v = validateEnv(AppEnv, env);
  return {
    nodeEnv: v.NODE_ENV,
    isProduction: v.NODE_ENV === 'production',
    host: v.HOST,
    port: v.PORT,
    logLevel: v.LOG_LEVEL,
    corsOrigins: v.CORS_ORIGINS,
    bodyLimit: v.BODY_LIMIT,
    throttle: { limit: v.THROTTLE_LIMIT, ttlMs: v.THROTTLE_TTL_SECONDS * 1000 },
    trustProxy: v.TRUST_PROXY,
    dataDir: resolve(v.CUSTOS_DATA_DIR),
    shutdownTimeoutMs: v.SHUTDOWN_TIMEOUT_MS,
  };
}

export const appConfig = registerAs('app', () => loadAppConfig(process.env));
