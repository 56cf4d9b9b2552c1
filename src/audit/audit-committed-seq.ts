import { Inject, Injectable } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { auditConfig } from '../config/audit.config';
import { dialectOf, forUpdateSkipLocked } from '../database/dialect';
import { TransactionRunner } from '../database/transaction-runner';

/**
 * The highest seq at or below which every audit event has committed, for readers that move a
 * cursor by seq (the incident detectors). Seqs are handed out at INSERT, so a transaction still
 * open can commit an event numbered below one already visible, and a cursor moved past it would
 * never see it.
 *
 * The writer's protocol gives the bound: an event is inserted only under the lock of its lane's
 * head, held until commit, and its seq is above that head's committed last_seq. So the lanes whose
 * heads are locked bound it by their last_seq; the others are locked here for the moment of the
 * reading, so nothing new can be numbered in them meanwhile, and every event of theirs is
 * committed. On SQLite the one connection commits events in seq order: no bound is needed.
 *
 * This holds on one server and on a Galera cluster written through one node. With writes on any
 * node, a transaction still running on another node is invisible here: readers keep their settle
 * window for that case.
 */
@Injectable()
export class AuditCommittedSeq {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly transactions: TransactionRunner,
    @Inject(auditConfig.KEY) private readonly config: ConfigType<typeof auditConfig>,
  ) {}

  /** The bound, or null when there is none to apply (SQLite, or a lane head missing). */
  async bound(): Promise<string | null> {
    const dialect = dialectOf(this.dataSource);
    if (dialect === 'sqlite') return null;
    return this.transactions.run(async (manager) => {
      // First, so that no writer can number an event in a free lane until this commits; a
      // locking read takes no snapshot, so the plain reads below see what committed before it.
      const free = await manager.query<{ lane: number }[]>(
        `SELECT lane FROM audit_chain_heads${forUpdateSkipLocked(dialect)}`,
      );
      const heads = await manager.query<{ lane: number; lastSeq: string | number | null }[]>(
        'SELECT lane, last_seq AS lastSeq FROM audit_chain_heads',
      );
      // A missing head is re-created by the next writer of its lane inside its own transaction,
      // unseen here until it commits: no bound can be told meanwhile.
      const lanes = new Set(heads.map((head) => Number(head.lane)));
      for (let lane = 0; lane < this.config.lanes; lane++) if (!lanes.has(lane)) return null;
      const [{ maxSeq }] = await manager.query<{ maxSeq: string | number | null }[]>(
        'SELECT MAX(seq) AS maxSeq FROM audit_events',
      );
      const freeLanes = new Set(free.map((row) => Number(row.lane)));
      let bound = BigInt(maxSeq ?? 0);
      for (const head of heads) {
        if (freeLanes.has(Number(head.lane))) continue;
        const below = BigInt(head.lastSeq ?? 0);
        if (below < bound) bound = below;
      }
      return String(bound);
    });
  }
}
