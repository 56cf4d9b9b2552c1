import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuditCommittedSeq } from '../../audit/audit-committed-seq';
import { settledPrefix } from './settled-prefix';
import { TransactionRunner } from '../../database/transaction-runner';
import {
  databaseNow,
  dialectOf,
  placeholders,
  timestampParam,
  toDate,
} from '../../database/dialect';

/** An audit event with the columns detectors read; details stay text until a rule needs them. */
export interface DetectorEvent {
  seq: string;
  at: Date;
  actorType: string;
  actorId: string | null;
  ip: string | null;
  resourceId: string | null;
  details: string;
}

interface Row {
  seq: string | number;
  at: Date | string;
  actorType: string;
  actorId: string | null;
  ip: string | null;
  resourceId: string | null;
  details: string;
}

const COLUMNS =
  'seq, occurred_at AS at, actor_type AS actorType, actor_id AS actorId, ip, ' +
  'resource_id AS resourceId, details';

/** The subject column a detector groups by, with the index that serves it. */
export type SubjectColumn = 'actor_id' | 'resource_id';

/**
 * The audit log as detectors read it: new events of some actions after a cursor (over the index on
 * action, whose entries carry the seq), then the history of the subjects those events touch, over
 * the (actor_id | resource_id, action, occurred_at) indexes.
 */
@Injectable()
export class DetectorEventsQuery {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly transactions: TransactionRunner,
    private readonly committed: AuditCommittedSeq,
  ) {}

  /**
   * Events of the actions after `afterSeq`, in seq order, up to the first one that may still have
   * company: the caller moves its cursor to the last event answered, so none numbered below it may
   * commit later. Every event answered is at or below the audit log's committed bound, and the
   * list stops before the first event younger than `settleMs` (the bound cannot see transactions
   * open on other Galera nodes; the settle window covers those).
   */
  async after(
    actions: string[],
    afterSeq: string,
    settleMs: number,
    limit: number,
    outcome?: string,
  ): Promise<DetectorEvent[]> {
    const bound = await this.committed.bound();
    const settled = (await databaseNow(this.dataSource)).getTime() - settleMs;
    const events = await this.select(
      `WHERE action IN (${placeholders(actions)}) AND seq > ?${bound === null ? '' : ' AND seq <= ?'}` +
        `${outcome ? ' AND outcome = ?' : ''} ORDER BY seq LIMIT ${Math.trunc(limit)}`,
      [...actions, afterSeq, ...(bound === null ? [] : [bound]), ...(outcome ? [outcome] : [])],
    );
    return settledPrefix(events, settled);
  }

  /**
   * Events of the actions in [from, upToSeq]; with `subjects`, only those of the subjects (by the
   * given column), otherwise all of them (a short window of failed logins, grouped by IP).
   */
  history(
    actions: string[],
    from: Date,
    upToSeq: string,
    subjects?: { column: SubjectColumn; ids: string[] },
    outcome?: string,
  ): Promise<DetectorEvent[]> {
    const dialect = dialectOf(this.dataSource);
    const bySubject = subjects ? `${subjects.column} IN (${placeholders(subjects.ids)}) AND ` : '';
    return this.select(
      `WHERE ${bySubject}action IN (${placeholders(actions)}) AND occurred_at >= ? AND seq <= ?` +
        `${outcome ? ' AND outcome = ?' : ''} ORDER BY occurred_at, seq`,
      [
        ...(subjects?.ids ?? []),
        ...actions,
        timestampParam(dialect, from),
        upToSeq,
        ...(outcome ? [outcome] : []),
      ],
    );
  }

  private async select(where: string, parameters: unknown[]): Promise<DetectorEvent[]> {
    // Through the runner: on SQLite's one shared connection a bare read could see another unit
    // of work's uncommitted events.
    const rows = await this.transactions.read((manager) =>
      manager.query<Row[]>(`SELECT ${COLUMNS} FROM audit_events ${where}`, parameters),
    );
    return rows.map((row) => ({ ...row, seq: String(row.seq), at: toDate(row.at) }));
  }
}
