import { isFQDN, isIP, IsIn, IsInt, IsUUID, Matches, Max, Min, ValidateBy } from 'class-validator';
import { ACCOUNT_HOST, ACCOUNT_NAME } from './mariadb-account';

export const MARIADB_STRATEGIES = ['alternating-users', 'single-user'] as const;
export type MariadbStrategy = (typeof MARIADB_STRATEGIES)[number];

/** What retiring a user does: `lock` (ACCOUNT LOCK) or `scramble` (a random password nobody has). */
export const RETIRE_MODES = ['lock', 'scramble'] as const;
export type RetireMode = (typeof RETIRE_MODES)[number];

/** TLS towards the target: on with the system CAs (`true`), or with a CA of its own. */
export interface TlsSetting {
  rejectUnauthorized?: boolean;
  /** PEM of the CA that signed the server's certificate. */
  ca?: string;
}

const TLS_KEYS = new Set(['rejectUnauthorized', 'ca']);
const PEM_CERTIFICATE = /^-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----\s*$/;

/** Why a `tls` setting does not fit, or undefined. The policy's JSON is capped at 4 KiB anyway. */
export function tlsProblem(value: unknown): string | undefined {
  if (value === undefined || typeof value === 'boolean') return undefined;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return 'must be true, false or {rejectUnauthorized?, ca?}';
  }
  const setting = value as Record<string, unknown>;
  const unknown = Object.keys(setting).filter((key) => !TLS_KEYS.has(key));
  if (unknown.length > 0) return `has unknown fields: ${unknown.join(', ')}`;
  if (setting.rejectUnauthorized !== undefined && typeof setting.rejectUnauthorized !== 'boolean') {
    return 'rejectUnauthorized must be a boolean';
  }
  if (
    setting.ca !== undefined &&
    (typeof setting.ca !== 'string' || !PEM_CERTIFICATE.test(setting.ca.trim()))
  ) {
    return 'ca must be a PEM certificate (-----BEGIN CERTIFICATE-----…)';
  }
  return undefined;
}

/**
 * Why `users` does not fit the strategy, or undefined: alternating-users needs two distinct
 * valid user names, single-user takes none (it rotates the credential's own username).
 */
export function usersProblem(value: unknown, strategy: unknown): string | undefined {
  if (strategy === 'single-user') {
    return value === undefined ? undefined : 'must be left out with the single-user strategy';
  }
  if (!Array.isArray(value) || value.length !== 2) {
    return 'must be two user names, [userA, userB], with the alternating-users strategy';
  }
  const names: unknown[] = value;
  if (!names.every((name) => typeof name === 'string' && ACCOUNT_NAME.test(name))) {
    return `must hold user names matching ${ACCOUNT_NAME.source}`;
  }
  if (names[0] === names[1]) return 'must be two different users';
  return undefined;
}

/** A host name or an IP address (the outbound guard decides later whether it may be reached). */
export function isTargetHost(value: unknown): boolean {
  return (
    typeof value === 'string' &&
    value.length <= 253 &&
    (isIP(value) || isFQDN(value, { require_tld: false, allow_underscores: false }))
  );
}

/** The `mariadb` rotator's settings beside `kind` in a policy. */
export class MariadbSettings {
  @IsIn(MARIADB_STRATEGIES)
  strategy: MariadbStrategy = 'alternating-users';

  /** Another stored password credential: its username and password are the admin login. */
  @IsUUID()
  adminCredentialId!: string;

  @ValidateBy({
    name: 'isTargetHost',
    validator: {
      validate: isTargetHost,
      defaultMessage: () => 'host must be a host name or an IP address',
    },
  })
  host!: string;

  @IsInt()
  @Min(1)
  @Max(65535)
  port = 3306;

  @ValidateBy({
    name: 'fitsStrategy',
    validator: {
      validate: (value, args) =>
        usersProblem(value, (args?.object as MariadbSettings).strategy) === undefined,
      defaultMessage: (args) =>
        `users ${usersProblem(args?.value, (args?.object as MariadbSettings).strategy) ?? 'is invalid'}`,
    },
  })
  users?: [string, string];

  /** The host part of the users' accounts (`'app_a'@'%'`). */
  @Matches(ACCOUNT_HOST, { message: `accountHost must match ${ACCOUNT_HOST.source}` })
  accountHost = '%';

  @IsIn(RETIRE_MODES)
  retire: RetireMode = 'lock';

  @ValidateBy({
    name: 'isTlsSetting',
    validator: {
      validate: (value) => tlsProblem(value) === undefined,
      defaultMessage: (args) => `tls ${tlsProblem(args?.value) ?? 'is invalid'}`,
    },
  })
  tls?: boolean | TlsSetting;
}
