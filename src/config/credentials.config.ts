import { registerAs } from '@nestjs/config';
import { IsBoolean, IsInt, Max, Min, ValidateBy } from 'class-validator';
import { durationSeconds, isIsoDuration } from '../common/duration';
import { EnvBoolean, EnvInteger } from './env-transforms';
import { Env, validateEnv } from './validate-env';

class CredentialsEnv {
  @EnvInteger()
  @Min(2)
  @Max(1000)
  @IsInt()
  CREDENTIALS_MAX_VERSIONS = 10;

  @ValidateBy({
    name: 'isIsoDuration',
    validator: {
      validate: (value: unknown) => isIsoDuration(value),
      defaultMessage: () => 'must be an ISO 8601 duration such as PT24H or P7D',
    },
  })
  CREDENTIALS_PREVIOUS_GRACE = 'PT24H';

  @EnvBoolean()
  @IsBoolean()
  REVEAL_REASON_REQUIRED = false;

  @EnvInteger()
  @Min(1)
  @Max(10_000)
  @IsInt()
  KEYS_REWRAP_BATCH_SIZE = 200;
}

export interface CredentialsConfig {
  /** Versions kept per credential; the oldest revoked ones beyond it are pruned. */
  maxVersions: number;
  /** How long the old value stays revealable after a manual secret change, in seconds. */
  previousGraceSeconds: number;
  /** People must give a reason to reveal (services never do: they have no one to ask). */
  revealReasonRequired: boolean;
  /**
   * Data keys re-wrapped per transaction during a master-key rotation (and versions per
   * transaction of the leak-scan fingerprint backfill, which opens them alike).
   */
  rewrapBatchSize: number;
}

export function loadCredentialsConfig(env: Env): CredentialsConfig {
  const v = validateEnv(CredentialsEnv, env);
  return {
    maxVersions: v.CREDENTIALS_MAX_VERSIONS,
    previousGraceSeconds: durationSeconds(v.CREDENTIALS_PREVIOUS_GRACE),
    revealReasonRequired: v.REVEAL_REASON_REQUIRED,
    rewrapBatchSize: v.KEYS_REWRAP_BATCH_SIZE,
  };
}

export const credentialsConfig = registerAs('credentials', () =>
  loadCredentialsConfig(process.env),
);
