import { ParsedSecret } from './parsed-secret';
import { readSecret, text } from './secret-fields';

/** Secrets that are one opaque string, kept exactly as given; nothing can be derived from them. */

export function parsePasswordSecret(input: unknown): ParsedSecret {
  return { value: readSecret(input, { password: text({ maxChars: 4096 }) }), derived: {} };
}

export function parseApiKeySecret(input: unknown): ParsedSecret {
  return { value: readSecret(input, { apiKey: text({ maxChars: 4096 }) }), derived: {} };
}

export function parseSharedSecret(input: unknown): ParsedSecret {
  return { value: readSecret(input, { secret: text({ maxChars: 65536 }) }), derived: {} };
}
