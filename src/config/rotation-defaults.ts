import { durationSeconds, isIsoDuration } from '../common/duration';
import { CREDENTIAL_TYPES, CredentialType, isCredentialType } from '../common/credential-types';

/** The shortest interval between two rotations of a credential a policy may ask for. */
export const MIN_ROTATION_INTERVAL_SECONDS = 60;

/** What a rotation policy of a credential type uses when it gives no interval, schedule or grace. */
export interface RotationTypeDefaults {
  interval: string;
  gracePeriod: string;
}

export type RotationDefaults = Readonly<Record<CredentialType, RotationTypeDefaults>>;

const BUILT_IN: Partial<Record<CredentialType, RotationTypeDefaults>> = {
  api_key: { interval: 'P90D', gracePeriod: 'PT24H' },
  // People type passwords from password managers that sync late: a longer overlap.
  password: { interval: 'P30D', gracePeriod: 'PT48H' },
  shared_secret: { interval: 'P90D', gracePeriod: 'PT24H' },
};
const OTHERS: RotationTypeDefaults = { interval: 'P90D', gracePeriod: 'PT24H' };
const FIELDS = ['interval', 'gracePeriod'] as const;
const EXAMPLE = '{"api_key":{"interval":"P60D","gracePeriod":"PT12H"}}';

type Overrides = Partial<Record<CredentialType, Partial<RotationTypeDefaults>>>;

/** The built-in defaults with `json`'s overrides applied (validate it first). */
export function parseRotationDefaults(json: string): RotationDefaults {
  return merge(JSON.parse(json) as Overrides);
}

/** What is wrong with a ROTATION_DEFAULTS value, or undefined when it is valid. */
export function rotationDefaultsProblem(value: unknown): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(String(value));
  } catch {
    return `must be a JSON object such as ${EXAMPLE}`;
  }
  if (!isObject(parsed)) return `must be a JSON object such as ${EXAMPLE}`;
  for (const [type, entry] of Object.entries(parsed)) {
    if (!isCredentialType(type)) {
      return `'${type}' is not a credential type (one of ${CREDENTIAL_TYPES.join(', ')})`;
    }
    if (!isObject(entry)) return `${type} must be an object with interval and/or gracePeriod`;
    for (const [field, duration] of Object.entries(entry)) {
      if (!(FIELDS as readonly string[]).includes(field)) {
        return `${type}.${field} is not a setting (only interval and gracePeriod)`;
      }
      if (!isIsoDuration(duration)) {
        return `${type}.${field} must be an ISO 8601 duration such as P30D or PT12H`;
      }
    }
  }
  const merged = merge(parsed);
  for (const type of CREDENTIAL_TYPES) {
    const { interval, gracePeriod } = merged[type];
    if (durationSeconds(interval) < MIN_ROTATION_INTERVAL_SECONDS) {
      return `${type}.interval must be at least PT1M (got ${interval})`;
    }
    if (durationSeconds(gracePeriod) > durationSeconds(interval)) {
      return `${type}.gracePeriod (${gracePeriod}) must not be longer than its interval (${interval})`;
    }
  }
  return undefined;
}

function merge(overrides: Overrides): RotationDefaults {
  return Object.fromEntries(
    CREDENTIAL_TYPES.map((type) => [type, { ...(BUILT_IN[type] ?? OTHERS), ...overrides[type] }]),
  ) as Record<CredentialType, RotationTypeDefaults>;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
