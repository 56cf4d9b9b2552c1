import { DataSource, EntityManager } from 'typeorm';
import { DatabaseBusyError } from '../common/errors/database-errors';

export type Dialect = 'mariadb' | 'sqlite';

/** The few SQL fragments that differ between MariaDB and SQLite, in one place. */
export function dialectOf(source: DataSource | EntityManager): Dialect {
  const type = source instanceof DataSource ? source.options.type : source.connection.options.type;
  return type === 'better-sqlite3' ? 'sqlite' : 'mariadb';
}

/** `?, ?, ?`: one placeholder per value, for `IN (…)` lists in plain SQL. */
export function placeholders(values: readonly unknown[]): string {
  return values.map(() => '?').join(', ');
}

/** Row lock for read-modify-write; SQLite has none and needs none (one writer at a time). */
export function forUpdate(dialect: Dialect): string {
  return dialect === 'mariadb' ? ' FOR UPDATE' : '';
}

/**
 * Row lock for work that several instances share (sweeps, claims): rows another transaction holds
 * are passed over instead of waited for. SQLite has one writer at a time and needs none.
 */
export function forUpdateSkipLocked(dialect: Dialect): string {
  return dialect === 'mariadb' ? ' FOR UPDATE SKIP LOCKED' : '';
}

/** Shared row lock for a read that must not interleave with a writer of the same rows. */
export function shareLock(dialect: Dialect): string {
  return dialect === 'mariadb' ? ' LOCK IN SHARE MODE' : '';
}

/** A statement fragment and its positional (`?`) parameters, in order. */
export interface SqlFragment {
  sql: string;
  parameters: unknown[];
}

/**
 * Rows aggregated into one JSON text value, each row an array of the given expressions: for a
 * scalar subquery that brings a short list along with another statement's row. No rows gives
 * NULL on MariaDB and `[]` on SQLite.
 */
export function jsonArrayAgg(dialect: Dialect, expressions: string[]): string {
  const row = expressions.join(', ');
  return dialect === 'mariadb'
    ? `JSON_ARRAYAGG(JSON_ARRAY(${row}))`
    : `json_group_array(json_array(${row}))`;
}

/** The database clock in UTC with milliseconds, as an expression. */
export function utcNowSql(dialect: Dialect): string {
  return dialect === 'mariadb' ? 'UTC_TIMESTAMP(3)' : "strftime('%Y-%m-%d %H:%M:%f', 'now')";
}

/** The database clock plus `ms` milliseconds, in UTC, as an expression (`ms` a whole number). */
export function utcNowPlusSql(dialect: Dialect, ms: number): string {
  const micros = Math.round(Number(ms) * 1000);
  return dialect === 'mariadb'
    ? `(UTC_TIMESTAMP(3) + INTERVAL ${micros} MICROSECOND)`
    : `strftime('%Y-%m-%d %H:%M:%f', 'now', '${micros >= 0 ? '+' : ''}${micros / 1e6} seconds')`;
}

/** The clock read of each unit of work TransactionRunner runs (null until it is first read). */
const transactionClocks = new WeakMap<EntityManager, Date | null>();

/**
 * The database's clock, which every instance shares: grace, schedules and leases use it. Inside
 * a unit of work of TransactionRunner it is read once and the transaction keeps that instant, so
 * the times one transaction writes agree with each other and cost one round trip.
 */
export async function databaseNow(source: DataSource | EntityManager): Promise<Date> {
  const cached = source instanceof EntityManager ? transactionClocks.get(source) : undefined;
  if (cached) return new Date(cached.getTime());
  const [row] = await source.query<{ now: Date | string }[]>(
    `SELECT ${utcNowSql(dialectOf(source))} AS now`,
  );
  const now = toDate(row.now);
  if (cached === null) transactionClocks.set(source as EntityManager, new Date(now.getTime()));
  return now;
}

/** Runs a unit of work whose databaseNow() is read once (TransactionRunner). */
export async function withTransactionClock<T>(
  manager: EntityManager,
  work: (manager: EntityManager) => Promise<T>,
): Promise<T> {
  transactionClocks.set(manager, null);
  try {
    return await work(manager);
  } finally {
    transactionClocks.delete(manager);
  }
}

/** Reads a timestamp the driver returned (a Date from mysql2, a UTC string from SQLite). */
export function toDate(value: Date | string): Date {
  if (value instanceof Date) return value;
  return new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : `${value.replace(' ', 'T')}Z`);
}

/**
 * Entities declare generated ids as bigint, which MariaDB needs. SQLite allows AUTOINCREMENT only
 * on "integer PRIMARY KEY" (64-bit there too), so its migrations say integer; this aligns the
 * SQLite metadata with them before TypeORM compares schema and entities.
 */
export function alignSqliteGeneratedIds(dataSource: DataSource): void {
  if (dialectOf(dataSource) !== 'sqlite') return;
  for (const entity of dataSource.entityMetadatas) {
    for (const column of entity.columns) {
      if (
        column.isGenerated &&
        column.generationStrategy === 'increment' &&
        column.type === 'bigint'
      ) {
        column.type = 'integer';
      }
    }
  }
}

/**
 * A time as a query parameter. TypeORM converts entity values itself, but raw parameters go to
 * the driver as they are, and SQLite stores UTC text that only compares as text.
 */
export function timestampParam(dialect: Dialect, date: Date): Date | string {
  return dialect === 'mariadb' ? date : date.toISOString().replace('T', ' ').replace('Z', '');
}

/**
 * The TypeORM lock option for read-modify-write of rows: FOR UPDATE on MariaDB; none on SQLite,
 * which runs one transaction at a time (see TransactionRunner) and has no row locks.
 */
export function rowLock(manager: EntityManager): { mode: 'pessimistic_write' } | undefined {
  return dialectOf(manager) === 'mariadb' ? { mode: 'pessimistic_write' } : undefined;
}

/**
 * Whether a failed statement broke a unique index: the loser of a race two transactions ran
 * past the same existence check (there was no row to lock yet).
 */
export function isUniqueViolation(error: unknown): boolean {
  const driver = driverErrorOf(error);
  return (
    driver?.code === 'ER_DUP_ENTRY' ||
    driver?.errno === 1062 ||
    driver?.code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    driver?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY'
  );
}

/**
 * Whether the database aborted a transaction to break a deadlock; running it again may succeed.
 * TransactionRunner retries these itself and answers DatabaseBusyError when they persist, which
 * still counts here for callers that loop on their own.
 */
export function isDeadlock(error: unknown): boolean {
  if (error instanceof DatabaseBusyError) return error.reason === 'deadlock';
  const driver = driverErrorOf(error);
  return driver?.code === 'ER_LOCK_DEADLOCK' || driver?.errno === 1213;
}

function driverErrorOf(error: unknown): { code?: string; errno?: number } | undefined {
  return (error as { driverError?: { code?: string; errno?: number } } | null)?.driverError;
}

/**
 * `text` as a literal LIKE operand, for use with `ESCAPE '!'` (the same on MariaDB and SQLite):
 * its `%` and `_` match only themselves.
 */
export function likeLiteral(text: string): string {
  return text.replace(/[!%_]/g, (c) => `!${c}`);
}
