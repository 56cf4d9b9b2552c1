import { registerAs } from '@nestjs/config';
import { durationSeconds } from '../common/duration';
import { IsDurationBetween } from './env-duration';
import { Env, validateEnv } from './validate-env';

class AdoptionEnv {
  /**
   * A rotation's consumers are the principals that revealed the credential this long before it
   * finished: a service that reads its secret once a month at start-up still counts.
   */
  @IsDurationBetween(3600, 366 * 86_400, 'P30D')
  ROTATION_ADOPTION_WINDOW = 'P30D';

  /** `rotation.adoption_lagging` is raised this long before the grace ends. */
  @IsDurationBetween(60, 30 * 86_400, 'PT1H')
  ROTATION_ADOPTION_LAG_WARN = 'PT1H';
}

export interface AdoptionConfig {
  windowSeconds: number;
  lagWarnSeconds: number;
}

export function loadAdoptionConfig(env: Env): AdoptionConfig {
  const v = validateEnv(AdoptionEnv, env);
  return {
    windowSeconds: durationSeconds(v.ROTATION_ADOPTION_WINDOW),
    lagWarnSeconds: durationSeconds(v.ROTATION_ADOPTION_LAG_WARN),
  };
}

export const adoptionConfig = registerAs('adoption', () => loadAdoptionConfig(process.env));
