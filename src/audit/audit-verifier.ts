import type * as mysql from 'mysql2';
import { DataSource, EntityManager, QueryFailedError, QueryRunner } from 'typeorm';
import { dialectOf, toDate } from '../database/dialect';
import { TransactionRunner } from '../database/transaction-runner';
import { EventRowValues, rowValues, STORED_EVENT_COLUMNS, toStoredEvent } from './audit-event-rows';
import { parseCheckpointLanes } from './chain/audit-chain';
import { ChainHashOffload } from './chain/chain-hash-worker';
import {
  CheckpointAlgorithm,
  CheckpointStatement,
  checkpointSignatureProblem,
  CheckpointVerifyKeys,
} from './chain/checkpoint-signature';
import { ChainBreak, CheckpointPin, LaneHead, LaneVerifier } from './chain/lane-verifier';

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

/** Reads inside one snapshot: `query` for objects, `rows` for rows as arrays of column values. */
interface Snapshot {
  query: Query;
  rows: (sql: string, parameters: unknown[]) => Promise<EventRowValues[]>;
}

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
    /**
     * Rows per read. Small enough that the batches in flight die young: at 5000, four lanes'
     * rows outlived the young generation and garbage collection took a fifth of verify's CPU.
     */
    private readonly batchSize = 1000,
    /** Batches this large have their hashes computed on a worker thread; smaller ones here. */
    private readonly workerMinRows = 1000,
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
    const offload = new ChainHashOffload(
      this.workerMinRows,
      (keyId) => this.keys.chainKey(keyId),
      (error) => {
        this.dataSource.logger.log(
          'warn',
          `audit verify hashes in process: the chain hash worker failed (${error.message})`,
        );
      },
    );
    const walker = async (): Promise<void> => {
      for (let lane = pending.shift(); lane !== undefined; lane = pending.shift()) {
        const { verifier, broken } = await this.snapshot((snapshot) =>
          this.walkLane(snapshot, lane, pins.get(lane) ?? [], offload),
        );
        verified += verifier.verified;
        if (verifier.head.seq !== null) reached.push(BigInt(verifier.head.seq));
        if (broken) breaks.push(broken);
      }
    };
    try {
      await Promise.all(Array.from({ length: PARALLEL_LANES }, walker));
    } finally {
      await offload.close();
    }

    const headSeq = reached.length ? String(reached.reduce((a, b) => (b > a ? b : a))) : null;
    const result = { ok: true, verified, headSeq };
    if (breaks.length === 0) return result;
    const first = breaks.reduce((a, b) => (BigInt(b.seq) < BigInt(a.seq) ? b : a));
    return { ...result, ok: false, firstBadSeq: first.seq, reason: first.reason };
  }

  /** One lane, head first, inside one snapshot. */
  private async walkLane(
    { query, rows: read }: Snapshot,
    lane: number,
    pins: CheckpointPin[],
    offload: ChainHashOffload,
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
      const rows = await read(
        `SELECT ${STORED_EVENT_COLUMNS} FROM audit_events WHERE lane = ? AND lane_seq > ? ORDER BY lane_seq LIMIT ${this.batchSize}`,
        [lane, after],
      );
      const events = rows.map(toStoredEvent);
      const computed = await offload.digests(events);
      for (let i = 0; i < events.length; i++) {
        const broken = verifier.accept(events[i], computed?.[i]);
        if (broken) return { verifier, broken };
      }
      if (rows.length < this.batchSize) return { verifier, broken: verifier.finish() };
      after = verifier.head.laneSeq;
    }
  }

  /**
   * Runs `work` on one consistent snapshot. MariaDB: a read-only REPEATABLE READ transaction
   * started WITH CONSISTENT SNAPSHOT on a connection of its own. SQLite: a transaction, queued
   * behind the app's other units of work on its one connection, sees one state of the file too.
   */
  private async snapshot<T>(work: (snapshot: Snapshot) => Promise<T>): Promise<T> {
    const run = (manager: EntityManager): Query => manager.query.bind(manager) as Query;
    if (dialectOf(this.dataSource) === 'sqlite') {
      return this.transactions.run((manager) =>
        work({
          query: run(manager),
          rows: async (sql, parameters) =>
            (await manager.query<Record<string, unknown>[]>(sql, parameters)).map(rowValues),
        }),
      );
    }
    const runner = this.dataSource.createQueryRunner();
    try {
      await runner.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
      await runner.query('START TRANSACTION READ ONLY, WITH CONSISTENT SNAPSHOT');
      let result: T;
      try {
        result = await work({
          query: run(runner.manager),
          rows: (sql, parameters) => this.rowsAsArrays(runner, sql, parameters),
        });
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

  /**
   * Rows as arrays, on the snapshot's own connection. Straight to the driver because TypeORM
   * cannot ask for arrays, and a million rows as objects with named keys, wrapped by TypeORM,
   * cost verify a good part of its CPU. Failures are logged and thrown as TypeORM's would be.
   */
  private async rowsAsArrays(
    runner: QueryRunner,
    sql: string,
    parameters: unknown[],
  ): Promise<EventRowValues[]> {
    const connection = (await runner.connect()) as mysql.PoolConnection;
    return new Promise((resolve, reject) => {
      connection.query(
        { sql, values: parameters, rowsAsArray: true },
        (error: mysql.QueryError | null, rows: unknown) => {
          if (error) {
            this.dataSource.logger.logQueryError(error, sql, parameters);
            reject(new QueryFailedError(sql, parameters, error));
            return;
          }
          resolve(rows as EventRowValues[]);
        },
      );
    });
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
