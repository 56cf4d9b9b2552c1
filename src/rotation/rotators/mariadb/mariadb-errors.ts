import { PermanentRotationError } from '../rotator';

/**
 * A failure talking to the target server that another attempt may get past (the server down, a
 * network timeout). Its message is built here from the error code only: mysql2's own errors carry
 * the statement (`sql`), and a server's parse error quotes it, so neither ever leaves this module.
 */
export class MariadbTargetError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

interface DriverError {
  code?: unknown;
  errno?: unknown;
  sqlMessage?: unknown;
}

/** MariaDB error numbers this rotator tells apart (mysql2's names for some are off by version). */
export const ER = {
  DBACCESS_DENIED: 1044,
  ACCESS_DENIED: 1045,
  TABLEACCESS_DENIED: 1142,
  SPECIFIC_ACCESS_DENIED: 1227,
  CANNOT_USER: 1396,
  NOT_VALID_PASSWORD: 1819,
  ACCOUNT_LOCKED: 4151,
  /** MySQL's number for a locked account. */
  MYSQL_ACCOUNT_LOCKED: 3118,
} as const;

const PRIVILEGE_ERRORS: ReadonlySet<number> = new Set([
  ER.DBACCESS_DENIED,
  ER.TABLEACCESS_DENIED,
  ER.SPECIFIC_ACCESS_DENIED,
]);

export function errnoOf(error: unknown): number | undefined {
  const errno = (error as DriverError | null)?.errno;
  return typeof errno === 'number' ? errno : undefined;
}

function codeOf(error: unknown): string {
  const code = (error as DriverError | null)?.code;
  return typeof code === 'string' ? code : 'UNKNOWN';
}

/** A login refused for its password or because the account is locked (not a network failure). */
export function isLoginRefused(error: unknown): boolean {
  const errno = errnoOf(error);
  return (
    errno === ER.ACCESS_DENIED || errno === ER.ACCOUNT_LOCKED || errno === ER.MYSQL_ACCOUNT_LOCKED
  );
}

/**
 * A safe error for a failed statement or connection: permanent when retrying cannot help (a
 * missing privilege or user, a password the server's policy refuses), otherwise one the engine
 * retries. `what` says what was attempted, without values; the server's text is kept only where
 * it cannot hold a secret (`withServerText`).
 */
export function targetFailure(error: unknown, what: string, withServerText = false): Error {
  if (error instanceof MariadbTargetError || error instanceof PermanentRotationError) return error;
  const errno = errnoOf(error);
  const code = codeOf(error);
  const serverText = (error as DriverError | null)?.sqlMessage;
  const detail =
    withServerText && typeof serverText === 'string' ? `: ${serverText.slice(0, 300)}` : '';
  if (errno !== undefined && PRIVILEGE_ERRORS.has(errno)) {
    return new PermanentRotationError(
      `${what}: the admin login lacks a privilege (${code})${detail}`,
    );
  }
  if (errno === ER.CANNOT_USER) {
    return new PermanentRotationError(`${what}: the user does not exist (${code})`);
  }
  if (errno === ER.NOT_VALID_PASSWORD) {
    return new PermanentRotationError(
      `${what}: the server's password policy refused the generated password (${code}); give the policy a generator it accepts`,
    );
  }
  return new MariadbTargetError(`${what} failed (${code})${detail}`, code);
}
