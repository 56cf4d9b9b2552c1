import { isSensitiveKey, REDACTED } from '../logging/redact';

/** Identifiers useful for correlation but not to be stored in the clear: kept as an HMAC. */
const HASHED_KEYS = /(e-?mail|user_?name|login)/i;

/** Values that look like secrets whatever their key: JWTs, Custos API keys, PEM blocks. */
const SECRET_LOOKING = [
  /eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/,
  /cus_[A-Za-z0-9]+_[A-Za-z0-9_-]{16,}/,
  /-----BEGIN [A-Z ]*-----/,
];

const MAX_DEPTH = 6;
const MAX_STRING = 1024;
const MAX_ITEMS = 50;
const MAX_KEY = 64;
export const MAX_DETAILS_CHARS = 16 * 1024;

/**
 * What may be stored in an audit event's details: no secret values, passwords, tokens or keys
 * (replaced), sensitive identifiers as an HMAC (`hmac:<hex>`, the same input always giving the
 * same output so events can still be correlated), and bounded in size.
 */
export function sanitizeDetails(
  details: Record<string, unknown>,
  hmacIdentifier: (value: string) => string,
): Record<string, unknown> {
  const clean = sanitize(details, hmacIdentifier, 0) as Record<string, unknown>;
  return JSON.stringify(clean).length > MAX_DETAILS_CHARS
    ? { truncated: true, keys: Object.keys(clean).slice(0, 20) }
    : clean;
}

function sanitize(value: unknown, hmac: (value: string) => string, depth: number): unknown {
  if (typeof value === 'string') return sanitizeString(value);
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return value;
  // bigint, symbol, function, undefined: nothing worth keeping in an audit record
  if (typeof value !== 'object') return typeof value === 'bigint' ? value.toString() : null;
  if (value instanceof Date) return value.toISOString();
  if (depth >= MAX_DEPTH) return '[too deep]';
  if (Array.isArray(value))
    return value.slice(0, MAX_ITEMS).map((item) => sanitize(item, hmac, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value).slice(0, MAX_ITEMS)) {
    if (inner === undefined) continue;
    const safe = safeKey(key);
    if (isSensitiveKey(key)) out[safe] = REDACTED;
    else if (HASHED_KEYS.test(key)) out[safe] = hashIdentifiers(inner, hmac);
    else out[safe] = sanitize(inner, hmac, depth + 1);
  }
  return out;
}

/** Keys are data too: a secret used as a key is redacted, a long one cut. */
function safeKey(key: string): string {
  if (SECRET_LOOKING.some((pattern) => pattern.test(key))) return '[redacted key]';
  return key.length > MAX_KEY ? `${key.slice(0, MAX_KEY)}…` : key;
}

function hashIdentifiers(value: unknown, hmac: (value: string) => string): unknown {
  if (typeof value === 'string') return hmac(value);
  if (Array.isArray(value))
    return value.slice(0, MAX_ITEMS).map((item) => hashIdentifiers(item, hmac));
  return value === null || typeof value === 'number' || typeof value === 'boolean'
    ? value
    : REDACTED;
}

function sanitizeString(value: string): string {
  if (SECRET_LOOKING.some((pattern) => pattern.test(value))) return REDACTED;
  return value.length > MAX_STRING ? `${value.slice(0, MAX_STRING)}…` : value;
}
