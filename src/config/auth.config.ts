import { registerAs } from '@nestjs/config';
import {
  IsBoolean,
  IsEmail,
  IsInt,
  IsOptional,
  IsString,
  Max,
  Min,
  MinLength,
} from 'class-validator';
import { loadAppConfig } from './app.config';
import { ConfigError } from './config-error';
import { EnvBoolean, EnvInteger } from './env-transforms';
import { Env, validateEnv } from './validate-env';

class AuthEnv {
  @IsOptional()
  @IsString()
  @MinLength(32, {
    message: 'JWT_SECRET must be at least 32 characters (e.g. openssl rand -base64 48)',
  })
  JWT_SECRET?: string;

  @IsString()
  @MinLength(1)
  JWT_ISSUER = 'custos';

  @IsString()
  @MinLength(1)
  JWT_AUDIENCE = 'custos-api';

  @EnvInteger()
  @Min(60)
  @Max(3600)
  @IsInt()
  ACCESS_TOKEN_TTL_SECONDS = 900;

  @EnvInteger()
  @Min(300)
  @Max(90 * 24 * 3600)
  @IsInt()
  REFRESH_TOKEN_TTL_SECONDS = 7 * 24 * 3600;

  @EnvInteger()
  @Min(1)
  @Max(100)
  @IsInt()
  LOGIN_MAX_FAILURES = 5;

  @EnvInteger()
  @Min(1)
  @IsInt()
  LOGIN_LOCKOUT_SECONDS = 900;

  @EnvInteger()
  @Min(1)
  @IsInt()
  LOGIN_THROTTLE_LIMIT = 10;

  @IsEmail({ require_tld: false })
  CUSTOS_ADMIN_EMAIL = 'admin@localhost';

  @EnvBoolean()
  @IsBoolean()
  AUTH_REQUIRE_MFA_FOR_ADMINS = false;
}

export interface AuthConfig {
  /** Configured signing secret; undefined means "derive from the master key" (development only). */
  jwtSecret?: string;
  issuer: string;
  audience: string;
  accessTtlSeconds: number;
  refreshTtlSeconds: number;
  maxFailures: number;
  lockoutMs: number;
  loginThrottleLimit: number;
  adminEmail: string;
  /** Admins without a confirmed second factor may only enrol one (and see themselves). */
  requireMfaForAdmins: boolean;
}

export function loadAuthConfig(env: Env): AuthConfig {
  const v = validateEnv(AuthEnv, env);
  if (!v.JWT_SECRET && loadAppConfig(env).isProduction) {
    throw new ConfigError([
      'JWT_SECRET: must be set in production (at least 32 random characters)',
    ]);
  }
  return {
    jwtSecret: v.JWT_SECRET,
    issuer: v.JWT_ISSUER,
    audience: v.JWT_AUDIENCE,
    accessTtlSeconds: v.ACCESS_TOKEN_TTL_SECONDS,
    refreshTtlSeconds: v.REFRESH_TOKEN_TTL_SECONDS,
    maxFailures: v.LOGIN_MAX_FAILURES,
    lockoutMs: v.LOGIN_LOCKOUT_SECONDS * 1000,
    loginThrottleLimit: v.LOGIN_THROTTLE_LIMIT,
    adminEmail: v.CUSTOS_ADMIN_EMAIL.toLowerCase(),
    requireMfaForAdmins: v.AUTH_REQUIRE_MFA_FOR_ADMINS,
  };
}

export const authConfig = registerAs('auth', () => loadAuthConfig(process.env));
