import { registerAs } from '@nestjs/config';
import { IsBoolean, IsInt, Max, Min, ValidateBy } from 'class-validator';
import { durationSeconds, isIsoDuration } from '../common/duration';
import { ConfigError } from './config-error';
import { EnvBoolean, EnvInteger } from './env-transforms';
import { Env, validateEnv } from './validate-env';

function IsDuration(): PropertyDecorator {
  return ValidateBy({
    name: 'isIsoDuration',
    validator: {
      validate: (value: unknown) => isIsoDuration(value) && durationSeconds(value) > 0,
      defaultMessage: () => 'must be an ISO 8601 duration above zero such as PT10S or PT1H',
    },
  });
}

class WebhooksEnv {
  /** Off on an instance that should serve requests only; deliveries wait for one that is on. */
  @EnvBoolean()
  @IsBoolean()
  WEBHOOKS_DISPATCHER_ENABLED = true;

  @EnvInteger()
  @Min(100)
  @Max(60_000)
  @IsInt()
  WEBHOOKS_DISPATCH_INTERVAL_MS = 1000;

  /** Deliveries one instance has in flight at once; a slow receiver holds one slot, not all. */
  @EnvInteger()
  @Min(1)
  @Max(64)
  @IsInt()
  WEBHOOKS_CONCURRENCY = 4;

  @EnvInteger()
  @Min(1)
  @Max(50)
  @IsInt()
  WEBHOOKS_MAX_ATTEMPTS = 8;

  @IsDuration()
  WEBHOOKS_RETRY_BACKOFF = 'PT10S';

  @IsDuration()
  WEBHOOKS_RETRY_BACKOFF_MAX = 'PT1H';
}

export interface WebhooksConfig {
  dispatcherEnabled: boolean;
  dispatchIntervalMs: number;
  concurrency: number;
  /** Attempts of one delivery before it is dead (dead-lettered). */
  maxAttempts: number;
  /** Wait before attempt n+1: base × 2^(n-1), at most max, with jitter. */
  retryBackoffMs: number;
  retryBackoffMaxMs: number;
}

export function loadWebhooksConfig(env: Env): WebhooksConfig {
  const v = validateEnv(WebhooksEnv, env);
  const ms = (duration: string) => durationSeconds(duration) * 1000;
  if (ms(v.WEBHOOKS_RETRY_BACKOFF_MAX) < ms(v.WEBHOOKS_RETRY_BACKOFF)) {
    throw new ConfigError([
      `WEBHOOKS_RETRY_BACKOFF_MAX: must not be shorter than WEBHOOKS_RETRY_BACKOFF (${v.WEBHOOKS_RETRY_BACKOFF})`,
    ]);
  }
  return {
    dispatcherEnabled: v.WEBHOOKS_DISPATCHER_ENABLED,
    dispatchIntervalMs: v.WEBHOOKS_DISPATCH_INTERVAL_MS,
    concurrency: v.WEBHOOKS_CONCURRENCY,
    maxAttempts: v.WEBHOOKS_MAX_ATTEMPTS,
    retryBackoffMs: ms(v.WEBHOOKS_RETRY_BACKOFF),
    retryBackoffMaxMs: ms(v.WEBHOOKS_RETRY_BACKOFF_MAX),
  };
}

export const webhooksConfig = registerAs('webhooks', () => loadWebhooksConfig(process.env));
