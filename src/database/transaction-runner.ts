import { Injectable } from '@nestjs/common';
import { AsyncLocalStorage } from 'node:async_hooks';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import type { IsolationLevel } from 'typeorm/driver/types/IsolationLevel';
import { withTransactionClock } from './dialect';

/**
 * Runs units of work in a transaction. On MariaDB each gets its own pooled connection. The
 * embedded SQLite database has a single connection, on which TypeORM cannot interleave two
 * transactions ("cannot start a transaction within a transaction"), so there they queue.
 * Never call run() from inside a unit of work: pass its EntityManager down instead. The database
 * clock (databaseNow) is read once per unit of work.
 */
@Injectable()
export class TransactionRunner {
  private sqliteQueue: Promise<unknown> = Promise.resolve();
  /**
   * The SQLite unit of work the current async context runs in, while it is open. A unit that
   * queues another (directly or through read()/alone()) would wait for itself forever; this
   * makes that mistake an error where it is made instead of a hang nobody can trace. The flag,
   * not the store's presence, decides: timers a unit started inherit its context after it ends.
   */
  private readonly sqliteUnit = new AsyncLocalStorage<{ open: boolean }>();

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  run<T>(work: (manager: EntityManager) => Promise<T>, isolation?: IsolationLevel): Promise<T> {
    const unit = (manager: EntityManager) => withTransactionClock(manager, work);
    if (this.dataSource.options.type !== 'better-sqlite3') {
      return isolation
        ? this.dataSource.transaction(isolation, unit)
        : this.dataSource.transaction(unit);
    }
    if (this.sqliteUnit.getStore()?.open) {
      return Promise.reject(
        new Error(
          'a unit of work queued another on the one SQLite connection and would wait for ' +
            'itself: pass its EntityManager down instead',
        ),
      );
    }
    const result = this.sqliteQueue.then(() => {
      const open = { open: true };
      return this.sqliteUnit
        .run(open, () => this.dataSource.transaction(unit))
        .finally(() => (open.open = false));
    });
    this.sqliteQueue = result.catch(() => undefined);
    return result;
  }

  /**
   * One write statement that is a transaction of its own: on MariaDB straight from the pool in
   * autocommit (no BEGIN and COMMIT round trips); on SQLite queued like run(), so it never lands
   * inside another unit of work on the shared connection.
   */
  alone<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    if (this.dataSource.options.type === 'better-sqlite3') return this.run(work);
    return work(this.dataSource.manager);
  }

  /**
   * Reads that need no transaction: on MariaDB straight from the pool (no BEGIN and COMMIT round
   * trips). On SQLite they still queue, or they would see another unit of work's uncommitted
   * writes on the one shared connection.
   */
  read<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    if (this.dataSource.options.type === 'better-sqlite3') return this.run(work);
    return work(this.dataSource.manager);
  }
}
