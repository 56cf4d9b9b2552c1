import { DataSource, EntityManager } from 'typeorm';
import { dialectOf, toDate } from '../database/dialect';
import { TransactionRunner } from '../database/transaction-runner';
import { parseCheckpointLanes } from './chain/audit-chain';
import {
  CheckpointAlgorithm,
  CheckpointStatement,
  checkpointSignatureProblem,
  CheckpointVerifyKeys,
} from './chain/checkpoint-signature';
import {
  ChainBreak,
  CheckpointPin,
  LaneHead,
  LaneVerifier,
  StoredEvent,
} from './chain/lane-verifier';

export interface VerifyResult {
  ok: boolean;
  /** Events whose hash and link were checked and found intact. */
  verified: number;
  /** The highest seq verify reached: events committed after a lane was read are left to the next run. */
  headSeq: string | null;
  firstBadSeq?: string;
  reason?: string;
}

export interface VerifyOptions {
  /** A checkpoint kept outside the database (e.g. from a sink), checked like the stored one. */
  checkpoint?: CheckpointStatement;
}

/** The keys verify needs: the chain key for events and HMAC checkpoints, the public key for Ed25519 ones. */
export type AuditVerifyKeys = CheckpointVerifyKeys;

type Query = <T>(sql: string, parameters?: unknown[]) => Promise<T>;

/** A row as the driver returns it: numbers may come back as strings and times as text. */
type EventRow = Omit<StoredEvent, 'seq' | 'laneSeq' | 'occurredAt' | 'httpStatus'> & {
  seq: string | number;
  laneSeq: string | number;
  occurredAt: Date | string;
  httpStatus: number | string | null;
};

interface HeadRow {
  lastLaneSeq: string | number;
  lastSeq: string | number | null;
  lastHash: string | null;
}

interface CheckpointRow {
  id: string | number;
  createdAt: Date | string;
  headSeq: string | number | null;
  lanes: string;
  keyId: string;
  algorithm: CheckpointAlgorithm;
  signature: string;
}

const PARALLEL_LANES = 4;

const COLUMNS =
  'seq, lane, lane_seq AS laneSeq, occurred_at AS occurredAt, actor_type AS actorType, ' +
  'actor_id AS actorId, actor_display AS actorDisplay, ip, user_agent AS userAgent, ' +
  'request_id AS requestId, action, resource_type AS resourceType, resource_id AS resourceId, ' +
  'outcome, http_status AS httpStatus, details, key_id AS keyId, prev_hash AS prevHash, hash';

/**
 * Walks every lane of the audit chain and checks it against its head and the signed checkpoints.
 *
 * Writers keep appending while this runs. Each lane is therefore read in one consistent snapshot
 * (its head first, then its events), in which the head and the chain must agree exactly: events
 * committed later belong to the next run, and an event beyond the head in the snapshot is
 * tampering. Checkpoints are read before any lane, so every event they pin is committed and
 * inside each lane's later snapshot. Reads go in keyset batches over the (lane, lane_seq) index,
 * so memory stays flat and time grows linearly with the number of events.
 */
export class AuditVerifier {
  constructor(
    private readonly dataSource: DataSource,
    private readonly keys: AuditVerifyKeys,
    private readonly transactions = new TransactionRunner(dataSource),
    private readonly batchSize = 5000,
  ) {}

  async verify(options: VerifyOptions = {}): Promise<VerifyResult> {
    const breaks: ChainBreak[] = [];
    const pins = new Map<number, CheckpointPin[]>();
    const checkpoints = [await this.latestCheckpoint(), options.checkpoint].filter(
      (checkpoint): checkpoint is CheckpointStatement => checkpoint !== undefined,
    );
    for (const checkpoint of checkpoints) {
      const source =
        checkpoint === options.checkpoint
          ? `the given checkpoint ${checkpoint.id}`
          : `checkpoint ${checkpoint.id}`;
      const problem = checkpointSignatureProblem(checkpoint, this.keys);
      if (problem) {
        breaks.push({
          lane: -1,
          seq: checkpoint.headSeq ?? '0',
          reason: `${source} has an invalid signature (${problem})`,
        });
        continue;
      }
      for (const stated of checkpoint.lanes) {
        pins.set(stated.lane, [...(pins.get(stated.lane) ?? []), { ...stated, source }]);
      }
    }

    let verified = 0;
    const reached: bigint[] = [];
    // Lanes are independent chains: walk a few at once so reads overlap with hashing.
    const pending = await this.lanes(pins.keys());
    const walker = async (): Promise<void> => {
      for (let lane = pending.shift(); lane !== undefined; lane = pending.shift()) {
        const { verifier, broken } = await this.snapshot((query) =>
          this.walkLane(query, lane, pins.get(lane) ?? []),
        );
        verified += verifier.verified;
        if (verifier.head.seq !== null) reached.push(BigInt(verifier.head.seq));
        if (broken) breaks.push(broken);
      }
    };
    await Promise.all(Array.from({ length: PARALLEL_LANES }, walker));

    const headSeq = reached.length ? String(reached.reduce((a, b) => (b > a ? b : a))) : null;
    const result = { ok: true, verified, headSeq };
    if (breaks.length === 0) return result;
    const first = breaks.reduce((a, b) => (BigInt(b.seq) < BigInt(a.seq) ? b : a));
    return { ...result, ok: false, firstBadSeq: first.seq, reason: first.reason };
  }

  /** One lane, head first, inside the snapshot `query` reads from. */
  private async walkLane(
    query: Query,
    lane: number,
    pins: CheckpointPin[],
  ): Promise<{ verifier: LaneVerifier; broken: ChainBreak | null }> {
    const [head] = await query<HeadRow[]>(
      'SELECT last_lane_seq AS lastLaneSeq, last_seq AS lastSeq, last_hash AS lastHash ' +
        'FROM audit_chain_heads WHERE lane = ?',
      [lane],
    );
    const verifier = new LaneVerifier(lane, (keyId) => this.keys.chainKey(keyId), {
      head: head ? toHead(head) : null,
      pins,
    });
    let after = '0';
    for (;;) {
      const rows = await query<EventRow[]>(
        `SELECT ${COLUMNS} FROM audit_events WHERE lane = ? AND lane_seq > ? ORDER BY lane_seq LIMIT ${this.batchSize}`,
        [lane, after],
      );
      for (const row of rows) {
        const broken = verifier.accept(toStored(row));
        if (broken) return { verifier, broken };
      }
      if (rows.length < this.batchSize) return { verifier, broken: verifier.finish() };
      after = String(rows[rows.length - 1].laneSeq);
    }
  }

  /**
   * Runs `work` on one consistent snapshot. MariaDB: a read-only REPEATABLE READ transaction
   * started WITH CONSISTENT SNAPSHOT on a connection of its own. SQLite: a transaction, queued
   * behind the app's other units of work on its one connection, sees one state of the file too.
   */
  private async snapshot<T>(work: (query: Query) => Promise<T>): Promise<T> {
    const run = (manager: EntityManager): Query => manager.query.bind(manager) as Query;
    if (dialectOf(this.dataSource) === 'sqlite') {
      return this.transactions.run((manager) => work(run(manager)));
    }
    const runner = this.dataSource.createQueryRunner();
    try {
      await runner.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
      await runner.query('START TRANSACTION READ ONLY, WITH CONSISTENT SNAPSHOT');
      let result: T;
      try {
        result = await work(run(runner.manager));
      } catch (error) {
        // The first error says what went wrong; a failing ROLLBACK after it would hide it.
        await runner.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
      await runner.query('ROLLBACK');
      return result;
    } finally {
      await runner.release();
    }
  }

  private async latestCheckpoint(): Promise<CheckpointStatement | undefined> {
    const [row] = await this.dataSource.query<CheckpointRow[]>(
      'SELECT id, created_at AS createdAt, head_seq AS headSeq, lanes, key_id AS keyId, ' +
        'algorithm, signature FROM audit_checkpoints ORDER BY id DESC LIMIT 1',
    );
    if (!row) return undefined;
    return {
      id: String(row.id),
      createdAt: toDate(row.createdAt),
      headSeq: row.headSeq === null ? null : String(row.headSeq),
      lanes: parseCheckpointLanes(row.lanes),
      keyId: row.keyId,
      algorithm: row.algorithm,
      signature: row.signature,
    };
  }

  /** Every lane with a head, an event or a checkpoint's word that it existed. */
  private async lanes(stated: Iterable<number>): Promise<number[]> {
    const rows = await this.dataSource.query<{ lane: number }[]>(
      'SELECT lane FROM audit_chain_heads UNION SELECT DISTINCT lane FROM audit_events',
    );
    return [...new Set([...rows.map((r) => Number(r.lane)), ...stated])].sort((a, b) => a - b);
  }
}

function toHead(row: HeadRow): LaneHead {
  return {
    lastLaneSeq: String(row.lastLaneSeq),
    lastSeq: row.lastSeq === null ? null : String(row.lastSeq),
    lastHash: row.lastHash,
  };
}

function toStored(row: EventRow): StoredEvent {
  return {
    ...row,
    seq: String(row.seq),
    lane: Number(row.lane),
    laneSeq: String(row.laneSeq),
    occurredAt: toDate(row.occurredAt),
    httpStatus: row.httpStatus === null ? null : Number(row.httpStatus),
  };
}
