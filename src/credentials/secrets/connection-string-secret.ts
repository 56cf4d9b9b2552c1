import { ParsedSecret } from './parsed-secret';
import { readSecret, text } from './secret-fields';

/**
 * A connection string, kept exactly as given. When it is a URL (`postgres://…`,
 * `mongodb+srv://…`, `jdbc:mysql://…`) its scheme, host and port are derived. Nothing from the
 * user-info part is: not the password, and not the user name either, since some services put a
 * token there (`https://<token>@github.com/…`, Sentry DSNs).
 */
const RULES = { connectionString: text({ maxChars: 4096 }) };

const URL_START = /^((?:jdbc:)?[A-Za-z][A-Za-z0-9+.-]*):\/\//;

export interface ConnectionStringFacts {
  scheme?: string;
  host?: string;
  port?: number;
}

export function parseConnectionStringSecret(input: unknown): ParsedSecret {
  const secret = readSecret(input, RULES);
  return { value: secret, derived: { ...describeConnectionString(secret.connectionString) } };
}

/** Scheme, host and port of a URL-shaped connection string; nothing when it is not one. */
export function describeConnectionString(connectionString: string): ConnectionStringFacts {
  const start = URL_START.exec(connectionString);
  if (!start) return {};
  const scheme = start[1].toLowerCase();
  const rest = connectionString.slice(start[0].length);
  // An '@' after the authority means a password with an unescaped '/', '?', '#' or '\': the URL
  // parser would then take part of the password for the host or port, so derive nothing more.
  const authorityEnd = rest.search(/[/?#\\]/);
  const authority = authorityEnd === -1 ? rest : rest.slice(0, authorityEnd);
  if (!authority.includes('@') && rest.includes('@')) return { scheme };
  let url: URL;
  try {
    url = new URL(connectionString.slice(scheme.startsWith('jdbc:') ? 'jdbc:'.length : 0));
  } catch {
    return { scheme };
  }
  return {
    scheme,
    ...(url.hostname !== '' && { host: url.hostname }),
    ...(url.port !== '' && { port: Number(url.port) }),
  };
}

/**
 * The passwords a connection string holds, for the leak scan to look for on their own (a password
 * pasted without its DSN): a URL's user-info password (as written and, when it is escaped,
 * decoded) and `Password=` / `Pwd=` of a `key=value;` string. Nothing when the URL's authority is
 * ambiguous (an unescaped '/', '?', '#' or '\\' in the password), as describeConnectionString.
 */
export function connectionStringPasswords(connectionString: string): string[] {
  const start = URL_START.exec(connectionString);
  if (start) {
    const rest = connectionString.slice(start[0].length);
    const authorityEnd = rest.search(/[/?#\\]/);
    const authority = authorityEnd === -1 ? rest : rest.slice(0, authorityEnd);
    const at = authority.lastIndexOf('@');
    const colon = at === -1 ? -1 : authority.indexOf(':');
    if (colon === -1 || colon > at) return [];
    const written = authority.slice(colon + 1, at);
    return [...new Set([written, decoded(written)])].filter((value) => value !== '');
  }
  const found = /(?:^|;)\s*(?:password|pwd)\s*=\s*([^;]*)/i.exec(connectionString);
  const value = found?.[1].trim() ?? '';
  return value === '' ? [] : [value];
}

function decoded(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
