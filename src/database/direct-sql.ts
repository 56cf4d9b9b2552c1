import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type * as mysql from 'mysql2';
import { DataSource, QueryFailedError } from 'typeorm';
import { TransactionRunner } from './transaction-runner';

/**
 * Single statements outside any transaction, for the few reads every service request makes (API
 * key, grants, the revealed version, a page of metadata). On MariaDB they go straight to the
 * driver's pool: a TypeORM query costs a query runner, a connection checkout and release, event
 * broadcasts and a promise wrapper around mysql2 on top of the statement, about as much CPU as
 * the round trip itself. Failures are logged and thrown as TypeORM's QueryFailedError, as for any
 * other query. Callers map the rows to typed objects and select secret columns only where they
 * are the point of the statement.
 */
@Injectable()
export class DirectSql {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly transactions: TransactionRunner,
  ) {}

  select<T>(sql: string, parameters: unknown[]): Promise<T[]> {
    const pool = (this.dataSource.driver as { pool?: mysql.Pool }).pool;
    // SQLite has one connection, shared with transactions: its reads queue behind them.
    if (!pool) return this.transactions.read((manager) => manager.query<T[]>(sql, parameters));
    const nested = this.transactions.nestedUnitError();
    if (nested) return Promise.reject(nested);
    const started = Date.now();
    return new Promise((resolve, reject) => {
      pool.query(sql, parameters as mysql.QueryValues, (error, rows) => {
        if (error) {
          this.dataSource.logger.logQueryError(error, sql, parameters);
          reject(new QueryFailedError(sql, parameters, error));
          return;
        }
        const elapsed = Date.now() - started;
        const slow = this.dataSource.options.maxQueryExecutionTime;
        if (slow && elapsed > slow) this.dataSource.logger.logQuerySlow(elapsed, sql, []);
        resolve(rows as T[]);
      });
    });
  }
}
