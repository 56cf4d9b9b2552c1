import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { AsyncLocalStorage } from 'node:async_hooks';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import type { IsolationLevel } from 'typeorm/driver/types/IsolationLevel';
import {
  DatabaseBusyError,
  DatabaseCommitUnknownError,
  DatabaseUnavailableError,
} from '../common/errors/database-errors';
import {
  isDatabaseUnreachable,
  retryReasonOf,
  RetryReason,
} from '../common/errors/database-failure';
import { DomainError } from '../common/errors/domain-error';
import { databaseConfig, RetryPolicy } from '../config/database.config';
import { withTransactionClock } from './dialect';
import { retryDelayMs } from './retry-delay';

export const DEFAULT_RETRY_POLICY: RetryPolicy = { attempts: 4, baseMs: 20 };

/** What a unit of work may be re-run after: a lost connection means something else per kind. */
type UnitKind = 'transaction' | 'write' | 'read';

/**
 * Runs units of work in a transaction. On MariaDB each gets its own pooled connection. The
 * embedded SQLite database has a single connection, on which TypeORM cannot interleave two
 * transactions ("cannot start a transaction within a transaction"), so there they queue.
 * Never call run() from inside a unit of work: pass its EntityManager down instead. The database
 * clock (databaseNow) is read once per unit of work.
 *
 * On MariaDB a unit that loses to a concurrent one (deadlock, lock wait timeout, Galera
 * certification conflict, a node not ready or a connection lost before COMMIT) was rolled back
 * whole by the server, and is run again from its start after a jittered, growing pause, up to
 * DB_RETRY_ATTEMPTS times. Units must therefore be safe to repeat: nothing outside the database
 * happens before commit, and whatever they compute (versions, chain heads, clock) they read
 * again inside. When the retries run out the caller gets a DatabaseBusyError (503).
 */
@Injectable()
export class TransactionRunner {
  private readonly logger = new Logger(TransactionRunner.name);
  private sqliteQueue: Promise<unknown> = Promise.resolve();
  private readonly policy: RetryPolicy;
  /** Re-runs by reason since start, for the metrics endpoint. */
  readonly retries = new Map<RetryReason, number>();
  /**
   * The unit of work the current async context runs in, while it is open. On SQLite a unit that
   * queues another (directly or through read()/alone()) would wait for itself forever; on MariaDB
   * it would hold its connection while it waits for a second one from the same pool, and a full
   * pool of such units waits forever. Either way the mistake is an error where it is made, not a
   * hang nobody can trace. The flag, not the store's presence, decides: timers a unit started
   * inherit its context after it ends.
   */
  private readonly openUnit = new AsyncLocalStorage<{ open: boolean }>();

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Optional()
    @Inject(databaseConfig.KEY)
    config?: ConfigType<typeof databaseConfig>,
  ) {
    this.policy = config?.common.retry ?? DEFAULT_RETRY_POLICY;
  }

  run<T>(work: (manager: EntityManager) => Promise<T>, isolation?: IsolationLevel): Promise<T> {
    const nested = this.nestedUnitError();
    if (nested) return Promise.reject(nested);
    const unit = (manager: EntityManager) => withTransactionClock(manager, work);
    if (this.dataSource.options.type !== 'better-sqlite3') {
      return this.retrying('transaction', () =>
        this.whileOpen(() => this.transactionOnce(unit, isolation)),
      );
    }
    const result = this.sqliteQueue.then(() =>
      this.whileOpen(() => this.dataSource.transaction(unit)),
    );
    this.sqliteQueue = result.catch(() => undefined);
    return result;
  }

  /**
   * The error for a database call made from inside an open unit of work (which must use the
   * unit's EntityManager instead), or undefined outside one. DirectSql asks too.
   */
  nestedUnitError(): Error | undefined {
    if (!this.openUnit.getStore()?.open) return undefined;
    return new Error(
      this.dataSource.options.type === 'better-sqlite3'
        ? 'a unit of work queued another on the one SQLite connection and would wait for ' +
            'itself: pass its EntityManager down instead'
        : 'a unit of work asked the pool for a second connection while holding its own, ' +
            'which can deadlock a full pool: pass its EntityManager down instead',
    );
  }

  private whileOpen<T>(unit: () => Promise<T>): Promise<T> {
    const open = { open: true };
    return this.openUnit.run(open, unit).finally(() => (open.open = false));
  }

  /**
   * One write statement that is a transaction of its own: on MariaDB straight from the pool in
   * autocommit (no BEGIN and COMMIT round trips); on SQLite queued like run(), so it never lands
   * inside another unit of work on the shared connection. Galera certifies autocommit statements
   * too, so conflicts are retried like run()'s; a connection lost under the statement is not, as
   * the statement may have committed.
   */
  alone<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    if (this.dataSource.options.type === 'better-sqlite3') return this.run(work);
    const nested = this.nestedUnitError();
    if (nested) return Promise.reject(nested);
    return this.retrying('write', () => work(this.dataSource.manager));
  }

  /**
   * Reads that need no transaction: on MariaDB straight from the pool (no BEGIN and COMMIT round
   * trips), retried like run() since reading again changes nothing. On SQLite they still queue,
   * or they would see another unit of work's uncommitted writes on the one shared connection.
   */
  read<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    if (this.dataSource.options.type === 'better-sqlite3') return this.run(work);
    const nested = this.nestedUnitError();
    if (nested) return Promise.reject(nested);
    return this.retrying('read', () => work(this.dataSource.manager));
  }

  private async retrying<T>(kind: UnitKind, once: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await once();
      } catch (error) {
        const reason = error instanceof DomainError ? undefined : retryReasonOf(error);
        if (reason === undefined) {
          throw isDatabaseUnreachable(error) ? new DatabaseUnavailableError(error) : error;
        }
        if (reason === 'connection_lost' && kind === 'write') {
          throw new DatabaseCommitUnknownError(error);
        }
        if (attempt >= this.policy.attempts) throw this.exhausted(reason, attempt + 1, error);
        this.retries.set(reason, (this.retries.get(reason) ?? 0) + 1);
        await new Promise((resolve) => setTimeout(resolve, retryDelayMs(this.policy, attempt)));
      }
    }
  }

  private exhausted(reason: RetryReason, attempts: number, error: unknown): DomainError {
    this.logger.warn(
      `A ${reason.replaceAll('_', ' ')} persisted through ${attempts} attempt(s); answering 503`,
    );
    return reason === 'node_not_ready' || reason === 'connection_lost'
      ? new DatabaseUnavailableError(error)
      : new DatabaseBusyError(reason, attempts, error);
  }

  /**
   * One attempt on a connection of its own. A connection lost while COMMIT was on the wire leaves
   * the outcome unknown, so that one is never re-run (a second run could apply the work twice).
   */
  private async transactionOnce<T>(
    unit: (manager: EntityManager) => Promise<T>,
    isolation?: IsolationLevel,
  ): Promise<T> {
    const runner = this.dataSource.createQueryRunner();
    let committing = false;
    try {
      await runner.startTransaction(isolation);
      const result = await unit(runner.manager);
      committing = true;
      await runner.commitTransaction();
      return result;
    } catch (error) {
      // The original error is the answer even if the rollback fails (the connection may be gone).
      await runner.rollbackTransaction().catch(() => undefined);
      if (committing && retryReasonOf(error) === 'connection_lost') {
        throw new DatabaseCommitUnknownError(error);
      }
      throw error;
    } finally {
      await runner.release().catch(() => undefined);
    }
  }
}
