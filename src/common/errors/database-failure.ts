/**
 * Which database failures are passing weather rather than answers. It lives in common, below the
 * database module, because the HTTP error filter needs it too: a driver error that reaches the
 * filter from outside the TransactionRunner (an authentication lookup, a lease) must still
 * answer 503, not 500.
 *
 * A retryable failure rolled the whole transaction back on the server, so running the unit of
 * work again from its start may succeed. A duplicate key (1062) is deliberately not here: it is a
 * real answer (the row exists), which the callers that expect it handle themselves.
 */
export type RetryReason =
  | 'deadlock'
  | 'lock_wait_timeout'
  | 'node_not_ready'
  | 'commit_failed'
  | 'interrupted'
  | 'connection_lost';

export const RETRY_REASONS: readonly RetryReason[] = [
  'deadlock',
  'lock_wait_timeout',
  'node_not_ready',
  'commit_failed',
  'interrupted',
  'connection_lost',
];

/** MariaDB server errors (errno) that roll the transaction back and invite a retry. */
const RETRYABLE_ERRNO: ReadonlyMap<number, RetryReason> = new Map([
  // InnoDB's deadlock victim, and what Galera answers for a certification conflict or a
  // brute-force abort by a replicated transaction: "try restarting transaction".
  [1213, 'deadlock'],
  // innodb_lock_wait_timeout; MariaDB rolls back the statement, and the runner rolls back the rest.
  [1205, 'lock_wait_timeout'],
  // ER_UNKNOWN_COM_ERROR: "WSREP has not yet prepared node for application use", a node that is
  // joining or has left the primary component.
  [1047, 'node_not_ready'],
  // ER_ERROR_DURING_COMMIT ("Got error 6 during COMMIT" on Galera when replication of the
  // write set failed): the commit did not happen.
  [1180, 'commit_failed'],
  // ER_QUERY_INTERRUPTED: a statement killed, e.g. by wsrep while the node re-joins.
  [1317, 'interrupted'],
  // ER_CONNECTION_KILLED: the session was killed (a node leaving the cluster kills its clients).
  [1927, 'connection_lost'],
]);

/** Client-side codes for a connection that broke under a running statement. */
const LOST_CONNECTION_CODES: ReadonlySet<string> = new Set([
  'PROTOCOL_CONNECTION_LOST',
  'ECONNRESET',
  'EPIPE',
  'CR_SERVER_LOST', // 2013
  'CR_SERVER_GONE_ERROR', // 2006
  'ER_CONNECTION_KILLED',
]);

/** Codes for a database that cannot be reached at all: nothing was done. */
const UNREACHABLE_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_CON_COUNT_ERROR', // 1040, too many connections
  'POOL_CLOSED',
]);

interface DriverFacts {
  code?: unknown;
  errno?: unknown;
  fatal?: unknown;
}

/** The retry reason of a failure, or undefined when running the work again would not help. */
export function retryReasonOf(error: unknown): RetryReason | undefined {
  for (const facts of driverFactsOf(error)) {
    if (typeof facts.errno === 'number') {
      const reason = RETRYABLE_ERRNO.get(facts.errno);
      if (reason) return reason;
    }
    if (typeof facts.code === 'string' && LOST_CONNECTION_CODES.has(facts.code)) {
      return 'connection_lost';
    }
  }
  return undefined;
}

/** Whether the failure was that no connection to the database could be made. */
export function isDatabaseUnreachable(error: unknown): boolean {
  return driverFactsOf(error).some(
    (facts) =>
      (typeof facts.code === 'string' && UNREACHABLE_CODES.has(facts.code)) || facts.errno === 1040,
  );
}

/** Whether the failure was the database's weather: busy or away, not a bug and not an answer. */
export function isDatabaseOutage(error: unknown): boolean {
  return retryReasonOf(error) !== undefined || isDatabaseUnreachable(error);
}

/**
 * TypeORM's wrapped `driverError`, a mysql2 error itself (connect errors reach callers unwrapped;
 * mysql2 marks them `fatal`, and server errors carry a `sqlState`), and the same of its `cause`
 * (an error that names a deadlock in the domain's words keeps the driver's as its cause). A
 * socket error from anything else (an outbound HTTP call) is not the database's.
 */
function driverFactsOf(error: unknown, depth = 0): DriverFacts[] {
  if (typeof error !== 'object' || error === null) return [];
  const facts: DriverFacts[] = [];
  const own = error as DriverFacts & { sqlState?: unknown };
  if (typeof own.fatal === 'boolean' || typeof own.sqlState === 'string') facts.push(own);
  const driver = (error as { driverError?: unknown }).driverError;
  if (typeof driver === 'object' && driver !== null) facts.push(driver);
  const cause = (error as { cause?: unknown }).cause;
  return depth === 0 && cause !== undefined ? [...facts, ...driverFactsOf(cause, 1)] : facts;
}
