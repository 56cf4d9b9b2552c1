import { ParsedSecret } from './parsed-secret';
import { isPlainObject, SecretProblems } from './secret-fields';
import { SecretShapeError } from './secret-shape.error';

/** The most keys of a `kv` secret; its size as a whole is bounded by SECRET_MAX_BYTES. */
export const KV_MAX_KEYS = 500;
const KEY_MAX_CHARS = 256;
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/**
 * A `kv` secret: a flat map of string values, as Vault KV v2 clients write them. Keys are
 * non-empty strings of at most 256 characters; values are strings (empty allowed, as in Vault).
 * Kept exactly as given. Messages name the position of a bad entry, never its key or value: a
 * secret pasted as a key must not be echoed.
 */
export function parseKvSecret(input: unknown): ParsedSecret {
  if (!isPlainObject(input)) throw SecretShapeError.single('', 'the secret must be a JSON object');
  const problems = new SecretProblems();
  const entries = Object.entries(input);
  if (entries.length > KV_MAX_KEYS) {
    problems.add('', `the secret must have at most ${KV_MAX_KEYS} keys`);
  }
  entries.forEach(([key, value], index) => {
    const position = `entry ${index + 1}`;
    if (key === '' || key.length > KEY_MAX_CHARS || LONE_SURROGATE.test(key)) {
      problems.add('', `the key of ${position} must be 1 to ${KEY_MAX_CHARS} characters`);
    }
    if (typeof value !== 'string') {
      problems.add('', `the value of ${position} must be a string (a kv secret is flat)`);
    } else if (LONE_SURROGATE.test(value)) {
      problems.add('', `the value of ${position} must be well-formed Unicode`);
    }
  });
  problems.throwIfAny();
  return { value: { ...(input as Record<string, string>) }, derived: {} };
}

/** Every value of a `kv` secret, in key order: a leak scan looks for each (a key id and its secret). */
export function kvScannedValues(secret: Record<string, unknown>): string[] {
  return Object.keys(secret)
    .sort()
    .map((key) => secret[key])
    .filter((value): value is string => typeof value === 'string' && value !== '');
}

/**
 * The one value of a `kv` secret kept in its version's own fingerprint column: its longest value (the first such key in sorted
 * order on a tie), the likeliest to be the secret rather than a user name or a host.
 */
export function kvFingerprintedValue(secret: Record<string, unknown>): string | undefined {
  let best: string | undefined;
  for (const key of Object.keys(secret).sort()) {
    const value = secret[key];
    if (
      typeof value === 'string' &&
      value !== '' &&
      (best === undefined || value.length > best.length)
    ) {
      best = value;
    }
  }
  return best;
}
