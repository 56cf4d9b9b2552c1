import { registerAs } from '@nestjs/config';
import { IsBoolean, ValidateBy } from 'class-validator';
import { durationSeconds, isIsoDuration } from '../common/duration';
import { EnvBoolean } from './env-transforms';
import { Env, validateEnv } from './validate-env';

const isoDuration = ValidateBy({
  name: 'isIsoDuration',
  validator: {
    validate: (value: unknown) => isIsoDuration(value),
    defaultMessage: () => 'must be an ISO 8601 duration such as PT24H or P7D',
  },
});

class LeakScanEnv {
  @EnvBoolean()
  @IsBoolean()
  SCAN_CONTAIN_BY_DEFAULT = false;

  @EnvBoolean()
  @IsBoolean()
  DECOY_SUSPEND_PRINCIPAL = false;

  @isoDuration
  LEAK_INCIDENT_WINDOW = 'PT24H';
}

export interface LeakScanConfig {
  /** A scan that does not say `contain` contains its hits (incident + emergency rotation). */
  containByDefault: boolean;
  /** Whoever reveals a decoy (or scans its value) is suspended as well as reported. */
  decoySuspendPrincipal: boolean;
  /** Hits on the same credential (or decoy and principal) within this add to one incident. */
  incidentWindowSeconds: number;
}

export function loadLeakScanConfig(env: Env): LeakScanConfig {
  const v = validateEnv(LeakScanEnv, env);
  return {
    containByDefault: v.SCAN_CONTAIN_BY_DEFAULT,
    decoySuspendPrincipal: v.DECOY_SUSPEND_PRINCIPAL,
    incidentWindowSeconds: durationSeconds(v.LEAK_INCIDENT_WINDOW),
  };
}

export const leakScanConfig = registerAs('leakScan', () => loadLeakScanConfig(process.env));
