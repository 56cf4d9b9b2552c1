import { Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { DataSource, Migration } from 'typeorm';
import { retryReasonOf } from '../common/errors/database-failure';
import { dialectOf, isUniqueViolation } from './dialect';

/** Outside the migrations: it must exist before the first of them runs, on an empty database. */
export const MIGRATION_LOCK_TABLE = 'schema_migration_lock';

export interface MigrationLockOptions {
  /** How long a taken lock lasts without renewal: a migrator that died frees it after this. */
  ttlMs: number;
  /** How long an instance waits for another's migrations before it gives up. */
  waitMs: number;
  /** Between two looks at a lock another instance holds. */
  pollMs: number;
}

const DEFAULTS: MigrationLockOptions = { ttlMs: 60_000, waitMs: 15 * 60_000, pollMs: 500 };

const logger = new Logger('Migrations');

/**
 * Applies pending migrations with one instance at a time migrating, however many start at once.
 * TypeORM's runner takes no lock (and GET_LOCK is not replicated by Galera), so the lock is a row:
 * an INSERT of the one lock row with an expiry by the database clock, renewed while migrations
 * run and deleted after. The others wait, then find nothing pending. SQLite serves one instance
 * and needs none.
 */
export async function runMigrationsExclusively(
  dataSource: DataSource,
  options: Partial<MigrationLockOptions> = {},
): Promise<Migration[]> {
  if (dialectOf(dataSource) === 'sqlite') {
    return dataSource.runMigrations({ transaction: 'each' });
  }
  const settings = { ...DEFAULTS, ...options };
  const holder = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  await dataSource.query(
    `CREATE TABLE IF NOT EXISTS ${MIGRATION_LOCK_TABLE} (id tinyint NOT NULL, ` +
      'holder varchar(128) NOT NULL, expires_at datetime(3) NOT NULL, PRIMARY KEY (id)) ' +
      'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci',
  );
  await waitForLock(dataSource, holder, settings);
  const renewal = setInterval(() => {
    dataSource
      .query(
        `UPDATE ${MIGRATION_LOCK_TABLE} SET expires_at = ${expiry(settings.ttlMs)} ` +
          'WHERE id = 1 AND holder = ?',
        [holder],
      )
      .catch(() => undefined);
  }, settings.ttlMs / 3);
  try {
    return await dataSource.runMigrations({ transaction: 'each' });
  } finally {
    clearInterval(renewal);
    await dataSource
      .query(`DELETE FROM ${MIGRATION_LOCK_TABLE} WHERE id = 1 AND holder = ?`, [holder])
      .catch(() => undefined);
  }
}

async function waitForLock(
  dataSource: DataSource,
  holder: string,
  settings: MigrationLockOptions,
): Promise<void> {
  const deadline = Date.now() + settings.waitMs;
  let told = false;
  while (!(await tryLock(dataSource, holder, settings.ttlMs))) {
    if (Date.now() > deadline) {
      throw new Error(
        `another instance has been migrating the database for over ${settings.waitMs / 1000} s ` +
          `(row in ${MIGRATION_LOCK_TABLE}); giving up`,
      );
    }
    if (!told) logger.log('Another instance is migrating the database; waiting for it');
    told = true;
    await new Promise((resolve) => setTimeout(resolve, settings.pollMs));
  }
}

/** One try: clears a lock that expired, then inserts ours unless a live one is there. */
async function tryLock(dataSource: DataSource, holder: string, ttlMs: number): Promise<boolean> {
  try {
    await dataSource.query(
      `DELETE FROM ${MIGRATION_LOCK_TABLE} WHERE id = 1 AND expires_at < UTC_TIMESTAMP(3)`,
    );
    const runner = dataSource.createQueryRunner();
    try {
      const inserted = await runner.query(
        `INSERT IGNORE INTO ${MIGRATION_LOCK_TABLE} (id, holder, expires_at) ` +
          `VALUES (1, ?, ${expiry(ttlMs)})`,
        [holder],
        true,
      );
      return ((inserted as { affected?: number }).affected ?? 0) > 0;
    } finally {
      await runner.release();
    }
  } catch (error) {
    // Two instances inserting through different Galera nodes: the loser's write fails
    // certification, which is the answer "taken".
    if (isUniqueViolation(error) || retryReasonOf(error) !== undefined) return false;
    throw error;
  }
}

function expiry(ttlMs: number): string {
  return `UTC_TIMESTAMP(3) + INTERVAL ${Math.round(ttlMs) * 1000} MICROSECOND`;
}
