import { registerAs } from '@nestjs/config';
import { IsBoolean, IsInt, Max, Min, ValidateBy, ValidationOptions } from 'class-validator';
import { durationSeconds, isIsoDuration } from '../common/duration';
import { EnvBoolean, EnvInteger } from './env-transforms';
import {
  parseRotationDefaults,
  rotationDefaultsProblem,
  RotationDefaults,
} from './rotation-defaults';
import { Env, validateEnv } from './validate-env';

function IsDuration(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isIsoDuration',
      validator: {
        validate: (value: unknown) => isIsoDuration(value),
        defaultMessage: () => 'must be an ISO 8601 duration such as PT1M, PT24H or P30D',
      },
    },
    options,
  );
}

class RotationEnv {
  /** Off on an instance that should serve requests only; runs still start from the API. */
  @EnvBoolean()
  @IsBoolean()
  ROTATION_SCHEDULER_ENABLED = true;

  @IsDuration()
  ROTATION_TICK = 'PT1M';

  /**
   * Batches one instance works on at once. A batch holds a pooled connection only while it talks
   * to the database, so 4 leaves room in the default pool (DB_POOL_SIZE 10) for requests while a
   * wave of due credentials rotates; see docs/performance.md, "Rotation".
   */
  @EnvInteger()
  @Min(1)
  @Max(64)
  @IsInt()
  ROTATION_CONCURRENCY = 4;

  /**
   * Runs moved through their steps together: their hooks run side by side and each step is one
   * transaction for the batch, so a wave of due credentials costs a few statements per batch
   * instead of per run.
   */
  @EnvInteger()
  @Min(1)
  @Max(500)
  @IsInt()
  ROTATION_BATCH_SIZE = 50;

  @EnvInteger()
  @Min(1)
  @Max(10)
  @IsInt()
  ROTATION_MAX_ATTEMPTS = 3;

  @IsDuration()
  ROTATION_RETRY_BACKOFF = 'PT10S';

  @IsDuration()
  ROTATION_FAILED_RETRY_AFTER = 'PT1H';

  @IsDuration()
  ROTATION_CLAIM_TTL = 'PT2M';

  @IsDuration()
  ROTATION_STEP_TIMEOUT = 'PT30S';

  @IsDuration()
  ROTATION_MANUAL_OVERDUE_AFTER = 'P3D';

  @IsDuration()
  ROTATION_OVERDUE_AFTER = 'PT1H';

  @EnvInteger()
  @Min(1)
  @IsInt()
  ROTATION_DEGRADED_OVERDUE_COUNT = 1;

  @IsDuration()
  ROTATION_SWEEP_INTERVAL = 'PT1M';

  @IsDuration()
  ROTATION_DESTROY_AFTER = 'P30D';

  @IsDuration()
  CREDENTIALS_EXPIRY_WARNING = 'P14D';

  /** JSON overriding the built-in interval and grace of some types (rotation-defaults.ts). */
  @ValidateBy({
    name: 'isRotationDefaults',
    validator: {
      validate: (value: unknown) => rotationDefaultsProblem(value) === undefined,
      defaultMessage: (args) => rotationDefaultsProblem(args?.value) ?? 'invalid',
    },
  })
  ROTATION_DEFAULTS = '{}';
}

export interface RotationConfig {
  schedulerEnabled: boolean;
  /** How often every instance looks for due work, in ms. */
  tickMs: number;
  /** Runs one instance works on at once. */
  concurrency: number;
  batchSize: number;
  /** Attempts of one run, each with a fresh value, before it is `failed`. */
  maxAttempts: number;
  /** Backoff before attempt n+1: base × 2^(n-1), with jitter. */
  retryBackoffMs: number;
  /** After a failed run, the credential's next attempt (not immediately, never forever). */
  failedRetryAfterSeconds: number;
  /** How long a claim on a run holds; a crashed instance's runs are resumed after it. */
  claimTtlMs: number;
  /** Longest a rotator hook may take before its attempt counts as failed. */
  stepTimeoutMs: number;
  manualOverdueAfterSeconds: number;
  /** A scheduled rotation this late counts as overdue. */
  overdueAfterSeconds: number;
  /** Readiness says `degraded` from this many overdue credentials. */
  degradedOverdueCount: number;
  sweepIntervalMs: number;
  /** Revoked versions keep their ciphertext this long, then are wiped (`destroyed`). */
  destroyAfterSeconds: number;
  /** `credential.expiring` is raised this long before `expiresAt`. */
  expiryWarningSeconds: number;
  /** Interval and grace of a policy that gives none, by credential type. */
  defaults: RotationDefaults;
}

export function loadRotationConfig(env: Env): RotationConfig {
  const v = validateEnv(RotationEnv, env);
  const ms = (duration: string) => durationSeconds(duration) * 1000;
  return {
    schedulerEnabled: v.ROTATION_SCHEDULER_ENABLED,
    tickMs: ms(v.ROTATION_TICK),
    concurrency: v.ROTATION_CONCURRENCY,
    batchSize: v.ROTATION_BATCH_SIZE,
    maxAttempts: v.ROTATION_MAX_ATTEMPTS,
    retryBackoffMs: ms(v.ROTATION_RETRY_BACKOFF),
    failedRetryAfterSeconds: durationSeconds(v.ROTATION_FAILED_RETRY_AFTER),
    claimTtlMs: ms(v.ROTATION_CLAIM_TTL),
    stepTimeoutMs: ms(v.ROTATION_STEP_TIMEOUT),
    manualOverdueAfterSeconds: durationSeconds(v.ROTATION_MANUAL_OVERDUE_AFTER),
    overdueAfterSeconds: durationSeconds(v.ROTATION_OVERDUE_AFTER),
    degradedOverdueCount: v.ROTATION_DEGRADED_OVERDUE_COUNT,
    sweepIntervalMs: ms(v.ROTATION_SWEEP_INTERVAL),
    destroyAfterSeconds: durationSeconds(v.ROTATION_DESTROY_AFTER),
    expiryWarningSeconds: durationSeconds(v.CREDENTIALS_EXPIRY_WARNING),
    defaults: parseRotationDefaults(v.ROTATION_DEFAULTS),
  };
}

export const rotationConfig = registerAs('rotation', () => loadRotationConfig(process.env));
