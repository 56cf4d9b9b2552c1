/** Field names whose values never reach a log line, wherever they appear. */
const SENSITIVE_KEY =
  /^(authorization|proxy-authorization|cookie|set-cookie|x-api-key|value|password|passphrase|.*(secret|token|password|passwd|api[-_]?key|private[-_]?key|master[-_]?key|connection[-_]?string|totp).*)$/i;

export const REDACTED = '[REDACTED]';

export function isSensitiveKey(key: string): boolean {
  return SENSITIVE_KEY.test(key);
}

/**
 * A copy of `input` with every sensitive field replaced, at any depth. Errors keep their type,
 * message and stack (under `err` pino serialises them itself).
 */
export function redactDeep(input: unknown, seen = new WeakSet<object>()): unknown {
  if (input === null || typeof input !== 'object') return input;
  if (input instanceof Error || input instanceof Date || Buffer.isBuffer(input)) return input;
  if (seen.has(input)) return '[Circular]';
  seen.add(input);
  if (Array.isArray(input)) return input.map((item) => redactDeep(item, seen));
  const output: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input)) {
    output[key] = isSensitiveKey(key) ? REDACTED : redactDeep(value, seen);
  }
  return output;
}
