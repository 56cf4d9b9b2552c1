import { ParsedSecret } from './parsed-secret';
import { readSecret, SecretProblems, text } from './secret-fields';

/**
 * A JSON Web Token in JWS compact form: `header.payload.signature`, each part base64url. Its
 * signature is not (and cannot be) verified here. Derived: the header's `alg`, and from the
 * claims `exp` (as `expiresAt`), `iss` (`issuer`) and `sub` (`subject`), none of them secret.
 * No other claim is ever copied out of the token.
 */
const RULES = { token: text({ maxChars: 16 * 1024 }) };

const BASE64URL = /^[A-Za-z0-9_-]*$/;
const ALGORITHM = /^[A-Za-z0-9+._-]{1,64}$/;

export function parseJwtSecret(input: unknown): ParsedSecret {
  const secret = readSecret(input, RULES);
  const problems = new SecretProblems();
  const fail = (error: string) => {
    problems.add('token', error);
    return undefined;
  };
  const claims = readToken(secret.token, fail);
  const { alg, payload } = problems.orThrow(claims);
  const expiresAt = numericDate(payload.exp);
  return {
    value: secret,
    derived: {
      alg,
      ...(expiresAt && { expiresAt }),
      ...(typeof payload.iss === 'string' && { issuer: payload.iss }),
      ...(typeof payload.sub === 'string' && { subject: payload.sub }),
    },
    ...(expiresAt && { expiresAt }),
  };
}

function readToken(
  token: string,
  fail: (error: string) => undefined,
): { alg: string; payload: Record<string, unknown> } | undefined {
  if (/\s/.test(token)) return fail('token must not contain whitespace');
  const parts = token.split('.');
  if (parts.length !== 3)
    return fail('token must be three base64url parts separated by dots (header.payload.signature)');
  const [headerPart, payloadPart, signature] = parts;
  const header = decodeJsonObject(headerPart);
  if (!header) return fail('token header must be a base64url-encoded JSON object');
  const alg = header.alg;
  if (typeof alg !== 'string' || !ALGORITHM.test(alg))
    return fail('token header must name its algorithm in alg');
  const payload = decodeJsonObject(payloadPart);
  if (!payload) return fail('token payload must be a base64url-encoded JSON object');
  if (!isBase64url(signature)) return fail('token signature must be base64url');
  if (signature === '' && alg !== 'none') return fail('token signature is missing');
  return { alg, payload };
}

function decodeJsonObject(part: string): Record<string, unknown> | undefined {
  if (part === '' || !isBase64url(part)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** Unpadded base64url; a length of 4n+1 cannot be the encoding of anything. */
function isBase64url(part: string): boolean {
  return BASE64URL.test(part) && part.length % 4 !== 1;
}

/** A NumericDate (seconds since the epoch, RFC 7519 §2) as a Date, when it is one. */
function numericDate(value: unknown): Date | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value)) return undefined;
  const date = new Date(value * 1000);
  return Number.isNaN(date.getTime()) ? undefined : date;
}
