import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { TransactionRunner } from '../../database/transaction-runner';
import { dialectOf, toDate } from '../../database/dialect';
import { DetectorCursor } from './detector-cursor.entity';

export interface CursorState {
  lastSeq: string;
  ranAt: Date | null;
}

/**
 * Where each detector stopped reading the audit log. The row is created on first use; moving it
 * is a compare-and-set on the seq it was read at, so two passes that both think they hold the
 * lease (one whose lease ran out mid-pass) cannot both report the same events.
 */
@Injectable()
export class DetectorCursorStore {
  constructor(private readonly transactions: TransactionRunner) {}

  /** In a unit of work of its own: on SQLite's shared connection it then never joins another. */
  read(detector: string): Promise<CursorState> {
    return this.transactions.run((manager) => this.readIn(manager, detector));
  }

  private async readIn(manager: EntityManager, detector: string): Promise<CursorState> {
    const dialect = dialectOf(manager);
    await manager.query(
      `${dialect === 'mariadb' ? 'INSERT IGNORE' : 'INSERT OR IGNORE'} INTO incident_detector_cursors ` +
        '(detector, last_seq, ran_at) VALUES (?, 0, NULL)',
      [detector],
    );
    const [row] = await manager.query<{ lastSeq: string | number; ranAt: Date | string | null }[]>(
      'SELECT last_seq AS lastSeq, ran_at AS ranAt FROM incident_detector_cursors WHERE detector = ?',
      [detector],
    );
    return { lastSeq: String(row.lastSeq), ranAt: row.ranAt === null ? null : toDate(row.ranAt) };
  }

  /** Moves the cursor from `from` (as read) to `to`; false when another pass moved it first. */
  async advance(
    manager: EntityManager,
    detector: string,
    from: string,
    to: string,
    ranAt: Date,
  ): Promise<boolean> {
    const result = await manager
      .createQueryBuilder()
      .update(DetectorCursor)
      .set({ lastSeq: to, ranAt })
      .where('detector = :detector AND last_seq = :from', { detector, from })
      .execute();
    return (result.affected ?? 0) > 0;
  }
}
