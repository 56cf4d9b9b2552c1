import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const API_KEY = /^cus_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

/** A new key: its id (stored), its secret (shown once) and the secret's SHA-256 (stored). */
export function generateApiKey(): { id: string; apiKey: string; secretHash: string } {
  const id = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return { id, apiKey: `cus_${id}_${secret}`, secretHash: hashSecret(secret) };
}

export function parseApiKey(value: string): { id: string; secret: string } | null {
  const match = API_KEY.exec(value);
  return match ? { id: match[1], secret: match[2] } : null;
}

export function looksLikeApiKey(value: string): boolean {
  return value.startsWith('cus_');
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** Constant time, so a guess learns nothing from how long the comparison took. */
export function secretMatches(secret: string, storedHash: string): boolean {
  const actual = Buffer.from(hashSecret(secret), 'hex');
  const expected = Buffer.from(storedHash, 'hex');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
