import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { DataSource, QueryResult } from 'typeorm';
import { retryReasonOf } from '../common/errors/database-failure';
import { databaseNow, dialectOf, isUniqueViolation, timestampParam } from './dialect';
import { Lease } from './lease.entity';

/**
 * Leases in the database: several instances may run the same timers, and the lease decides
 * which one does the work. Times come from the database clock, so instance clocks may drift.
 */
@Injectable()
export class LeaseService {
  readonly holder = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Takes or renews the lease; true when this instance holds it for the next `ttlMs`. A write that
   * lost to another instance's (a deadlock on one server; on Galera a certification conflict, or
   * a duplicate key when the node re-applies a conflicting autocommit insert) means the other
   * instance has it: false, not an error. A lost claim is a claim not taken.
   */
  async acquire(name: string, ttlMs: number): Promise<boolean> {
    try {
      return await this.take(name, ttlMs);
    } catch (error) {
      if (isUniqueViolation(error) || retryReasonOf(error) !== undefined) return false;
      throw error;
    }
  }

  private async take(name: string, ttlMs: number): Promise<boolean> {
    const now = await databaseNow(this.dataSource);
    const expiresAt = new Date(now.getTime() + ttlMs);
    const renewed = await this.dataSource
      .createQueryBuilder()
      .update(Lease)
      .set({ holder: this.holder, expiresAt })
      .where('name = :name AND (holder = :holder OR expires_at < :now)', {
        name,
        holder: this.holder,
        now: timestampParam(dialectOf(this.dataSource), now),
      })
      .execute();
    if ((renewed.affected ?? 0) > 0) return true;
    // Held by another instance (or taken by one just now) is the common answer, not an error:
    // the ignoring insert says so by changing nothing, where a failed insert would log an error.
    const dialect = dialectOf(this.dataSource);
    // The structured result's `affected` is the row count on both drivers; a plain query()
    // answers SQLite's last insert id instead, which an ignored insert leaves as it was.
    const runner = this.dataSource.createQueryRunner();
    try {
      const inserted: QueryResult = await runner.query(
        `${dialect === 'mariadb' ? 'INSERT IGNORE' : 'INSERT OR IGNORE'} INTO leases ` +
          '(name, holder, expires_at) VALUES (?, ?, ?)',
        [name, this.holder, timestampParam(dialect, expiresAt)],
        true,
      );
      return (inserted.affected ?? 0) > 0;
    } finally {
      await runner.release();
    }
  }

  async release(name: string): Promise<void> {
    await this.dataSource.getRepository(Lease).delete({ name, holder: this.holder });
  }
}
