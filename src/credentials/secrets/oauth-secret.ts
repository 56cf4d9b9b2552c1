import { ParsedSecret } from './parsed-secret';
import { FieldRule, optional, readSecret, text, textProblem } from './secret-fields';

/**
 * OAuth client credentials: `clientId`, `clientSecret`, and optionally the `tokenUrl` to exchange
 * them at (https, or http on the loopback host only) and the `scopes` to ask for.
 */
export const MAX_SCOPES = 100;
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

const tokenUrl: FieldRule<string, false> = {
  optional: false,
  check(value, name, fail) {
    const problem = textProblem(value, name, { maxChars: 2048 }) ?? urlProblem(value as string);
    if (problem === undefined) return value as string;
    fail(problem);
    return undefined;
  },
};

const scopes: FieldRule<string[], false> = {
  optional: false,
  check(value, name, fail) {
    if (!Array.isArray(value) || value.length > MAX_SCOPES) {
      fail(`${name} must be an array of at most ${MAX_SCOPES} strings`);
      return undefined;
    }
    let valid = true;
    value.forEach((scope: unknown, index) => {
      const problem =
        textProblem(scope, 'each scope', { maxChars: 256 }) ??
        (/\s/.test(scope as string) ? 'each scope must not contain whitespace' : undefined);
      if (problem === undefined) return;
      fail(problem, index);
      valid = false;
    });
    return valid ? [...(value as string[])] : undefined;
  },
};

const RULES = {
  clientId: text({ maxChars: 512 }),
  clientSecret: text({ maxChars: 4096 }),
  tokenUrl: optional(tokenUrl),
  scopes: optional(scopes),
};

export function parseOauthSecret(input: unknown): ParsedSecret {
  return { value: readSecret(input, RULES), derived: {} };
}

function urlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'tokenUrl must be an absolute URL';
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname)))
    return 'tokenUrl must be an https URL (http is allowed only for localhost)';
  if (url.username !== '' || url.password !== '')
    return 'tokenUrl must not hold a user name or password';
  return undefined;
}
