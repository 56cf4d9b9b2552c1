import { format } from 'mysql2';

/**
 * A MariaDB user name as Custos accepts it: the characters that need no quoting anywhere, so a
 * name from a policy or a credential can never change the meaning of a statement. MariaDB allows
 * up to 80 characters.
 */
export const ACCOUNT_NAME = /^[A-Za-z0-9_.$-]{1,80}$/;

/**
 * The host part of an account (`%`, `10.0.0.%`, `app.example.com`, `10.0.0.0/255.255.255.0`):
 * MariaDB's wildcards and netmask, nothing that could close a quoted string.
 */
export const ACCOUNT_HOST = /^[A-Za-z0-9_.%:/-]{1,255}$/;

/** A user of the target server: `'name'@'host'` in SQL. */
export interface Account {
  name: string;
  host: string;
}

export function isAccountName(value: unknown): value is string {
  return typeof value === 'string' && ACCOUNT_NAME.test(value);
}

/**
 * `'name'@'host'` for an ALTER USER, each part validated and then escaped as a string literal by
 * mysql2 (both checks: the validation is what makes the quoting trivially right). Throws on a name
 * or host that does not pass, which only a row edited behind Custos's back can hold.
 */
export function accountSql(account: Account): string {
  if (!ACCOUNT_NAME.test(account.name)) throw new Error('not a valid MariaDB user name');
  if (!ACCOUNT_HOST.test(account.host)) throw new Error('not a valid MariaDB account host');
  return format('?@?', [account.name, account.host]);
}

/** `name@host`, for messages and audit details. */
export function accountLabel(account: Account): string {
  return `${account.name}@${account.host}`;
}

/**
 * The user an alternating-users rotation sets a new password on: the one of the pair the
 * credential does not use now. Undefined when the credential's user is not one of the pair (the
 * policy check refuses that; a credential edited since then fails its run).
 */
export function nextUser(
  users: readonly [string, string],
  current: string | null,
): string | undefined {
  if (current === users[0]) return users[1];
  if (current === users[1]) return users[0];
  return undefined;
}
