import { DomainError } from './domain-error';
import { isDatabaseUnreachable, retryReasonOf, RetryReason } from './database-failure';

/** Seconds a client waits before trying again after the database was busy or away. */
export const DATABASE_RETRY_AFTER_SECONDS = 1;

/**
 * A transaction kept losing to concurrent ones (deadlock, lock wait, Galera certification) until
 * the retries ran out. Nothing of it was committed, so the client may send the request again.
 */
export class DatabaseBusyError extends DomainError {
  readonly kind = 'unavailable';
  override retryAfterSeconds = DATABASE_RETRY_AFTER_SECONDS;

  constructor(
    readonly reason: RetryReason,
    readonly attempts: number,
    override readonly cause?: unknown,
  ) {
    super('The database is busy with conflicting changes; nothing was changed, retry shortly');
  }
}

/** The database could not be reached, or is not ready to serve (a node re-joining its cluster). */
export class DatabaseUnavailableError extends DomainError {
  readonly kind = 'unavailable';
  override retryAfterSeconds = DATABASE_RETRY_AFTER_SECONDS;

  constructor(override readonly cause?: unknown) {
    super('The database is unavailable; retry shortly');
  }
}

/**
 * The connection broke while COMMIT was under way: the server may have committed or not, and only
 * reading back tells. Still a 503 (the database is away), but the message does not promise that
 * nothing was changed.
 */
export class DatabaseCommitUnknownError extends DomainError {
  readonly kind = 'unavailable';
  override retryAfterSeconds = DATABASE_RETRY_AFTER_SECONDS;

  constructor(override readonly cause?: unknown) {
    super('The database connection was lost while committing; the change may have been applied');
  }
}

/**
 * The typed 503 for a database failure that reached the error filter as a raw driver error (from
 * outside the TransactionRunner, which converts its own), or undefined for any other error.
 */
export function asDatabaseOutage(error: unknown): DomainError | undefined {
  if (error instanceof DomainError) return undefined;
  const reason = retryReasonOf(error);
  if (reason === 'deadlock' || reason === 'lock_wait_timeout') {
    return new DatabaseBusyError(reason, 1, error);
  }
  if (reason !== undefined || isDatabaseUnreachable(error))
    return new DatabaseUnavailableError(error);
  return undefined;
}
