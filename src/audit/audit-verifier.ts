import { DataSource } from 'typeorm';
import { toDate } from '../database/dialect';
import { parseCheckpointLanes, signCheckpoint } from './chain/audit-chain';
import { ChainBreak, LaneVerifier, StoredEvent } from './chain/lane-verifier';

export interface VerifyResult {
  ok: boolean;
  /** Events whose hash and link were checked and found intact. */
  verified: number;
  /** The highest seq in the log. */
  headSeq: string | null;
  firstBadSeq?: string;
  reason?: string;
}

type KeyFor = (keyId: string) => Buffer | undefined;

/** A row as the driver returns it: numbers may come back as strings and times as text. */
type EventRow = Omit<StoredEvent, 'seq' | 'laneSeq' | 'occurredAt' | 'httpStatus'> & {
  seq: string | number;
  laneSeq: string | number;
  occurredAt: Date | string;
  httpStatus: number | string | null;
};

const PARALLEL_LANES = 4;

const COLUMNS =
  'seq, lane, lane_seq AS laneSeq, occurred_at AS occurredAt, actor_type AS actorType, ' +
  'actor_id AS actorId, actor_display AS actorDisplay, ip, user_agent AS userAgent, ' +
  'request_id AS requestId, action, resource_type AS resourceType, resource_id AS resourceId, ' +
  'outcome, http_status AS httpStatus, details, key_id AS keyId, prev_hash AS prevHash, hash';

/**
 * Walks every lane of the audit chain and checks it against the lane heads and the latest signed
 * checkpoint. Reads in keyset batches over the (lane, lane_seq) index, so memory stays flat and
 * time grows linearly with the number of events.
 */
export class AuditVerifier {
  constructor(
    private readonly dataSource: DataSource,
    private readonly keyFor: KeyFor,
    private readonly batchSize = 5000,
  ) {}

  async verify(): Promise<VerifyResult> {
    const breaks: ChainBreak[] = [];
    let verified = 0;
    const heads = new Map<number, LaneVerifier['head']>();
    // Lanes are independent chains: walk a few at once so reads overlap with hashing.
    const pending = await this.lanes();
    const walker = async (): Promise<void> => {
      for (let lane = pending.shift(); lane !== undefined; lane = pending.shift()) {
        const verifier = new LaneVerifier(lane, this.keyFor);
        const broken = await this.walkLane(verifier);
        verified += verifier.verified;
        heads.set(lane, verifier.head);
        if (broken) breaks.push(broken);
      }
    };
    await Promise.all(Array.from({ length: PARALLEL_LANES }, walker));
    breaks.push(...(await this.checkHeads(heads)), ...(await this.checkCheckpoint(heads)));
    const headSeq = await this.headSeq();
    if (breaks.length === 0) return { ok: true, verified, headSeq };
    const first = breaks.reduce((a, b) => (BigInt(b.seq) < BigInt(a.seq) ? b : a));
    return { ok: false, verified, headSeq, firstBadSeq: first.seq, reason: first.reason };
  }

  private async walkLane(verifier: LaneVerifier): Promise<ChainBreak | null> {
    let after = '0';
    for (;;) {
      const rows = await this.dataSource.query<EventRow[]>(
        `SELECT ${COLUMNS} FROM audit_events WHERE lane = ? AND lane_seq > ? ORDER BY lane_seq LIMIT ${this.batchSize}`,
        [verifier.lane, after],
      );
      for (const row of rows) {
        const broken = verifier.accept(toStored(row));
        if (broken) return broken;
      }
      if (rows.length < this.batchSize) return null;
      after = String(rows[rows.length - 1].laneSeq);
    }
  }

  /** The heads table says how far each lane went; a shorter chain lost its tail. */
  private async checkHeads(verified: Map<number, LaneVerifier['head']>): Promise<ChainBreak[]> {
    const heads = await this.dataSource.query<
      {
        lane: number;
        lastLaneSeq: string | number;
        lastSeq: string | null;
        lastHash: string | null;
      }[]
    >(
      'SELECT lane, last_lane_seq AS lastLaneSeq, last_seq AS lastSeq, last_hash AS lastHash FROM audit_chain_heads',
    );
    return heads.flatMap((head) => {
      const chain = verified.get(head.lane);
      if (!chain || BigInt(head.lastLaneSeq) <= BigInt(chain.laneSeq)) return [];
      return [
        {
          lane: head.lane,
          seq: String(head.lastSeq ?? chain.seq ?? '0'),
          reason: `lane ${head.lane} ends at lane_seq ${chain.laneSeq} but its head records ${head.lastLaneSeq}: events were removed from the end`,
        },
      ];
    });
  }

  /** The latest checkpoint must be authentic and every head it states must still be in the chain. */
  private async checkCheckpoint(
    verified: Map<number, LaneVerifier['head']>,
  ): Promise<ChainBreak[]> {
    const [checkpoint] = await this.dataSource.query<
      {
        id: string;
        createdAt: Date | string;
        headSeq: string | null;
        lanes: string;
        keyId: string;
        signature: string;
      }[]
    >(
      'SELECT id, created_at AS createdAt, head_seq AS headSeq, lanes, key_id AS keyId, signature ' +
        'FROM audit_checkpoints ORDER BY id DESC LIMIT 1',
    );
    if (!checkpoint) return [];
    const key = this.keyFor(checkpoint.keyId);
    const headSeq = checkpoint.headSeq === null ? null : String(checkpoint.headSeq);
    if (
      !key ||
      signCheckpoint(key, toDate(checkpoint.createdAt), headSeq, checkpoint.lanes) !==
        checkpoint.signature
    ) {
      return [
        {
          lane: -1,
          seq: headSeq ?? '0',
          reason: `checkpoint ${checkpoint.id} has an invalid signature`,
        },
      ];
    }
    const breaks: ChainBreak[] = [];
    for (const stated of parseCheckpointLanes(checkpoint.lanes)) {
      const chain = verified.get(stated.lane);
      const reached = chain ? BigInt(chain.laneSeq) : 0n;
      if (reached < BigInt(stated.laneSeq)) {
        breaks.push({
          lane: stated.lane,
          seq: String(stated.seq ?? '0'),
          reason: `checkpoint ${checkpoint.id} saw lane ${stated.lane} at lane_seq ${stated.laneSeq}, the chain now ends at ${reached}: events were removed`,
        });
        continue;
      }
      if (stated.laneSeq === '0') continue;
      // seq is assigned by the database after hashing, so the hash cannot cover it; the signed
      // checkpoint pins the seq (and hash) of each lane's head it saw.
      const [row] = await this.dataSource.query<{ seq: string | number; hash: string }[]>(
        'SELECT seq, hash FROM audit_events WHERE lane = ? AND lane_seq = ?',
        [stated.lane, stated.laneSeq],
      );
      if (!row || String(row.seq) !== stated.seq || row.hash !== stated.hash) {
        breaks.push({
          lane: stated.lane,
          seq: String(row?.seq ?? stated.seq ?? '0'),
          reason: `the event at lane ${stated.lane}, lane_seq ${stated.laneSeq} differs from what checkpoint ${checkpoint.id} signed`,
        });
      }
    }
    return breaks;
  }

  private async lanes(): Promise<number[]> {
    const rows = await this.dataSource.query<{ lane: number }[]>(
      'SELECT lane FROM audit_chain_heads UNION SELECT DISTINCT lane FROM audit_events',
    );
    return [...new Set(rows.map((r) => Number(r.lane)))].sort((a, b) => a - b);
  }

  private async headSeq(): Promise<string | null> {
    const [row] = await this.dataSource.query<{ seq: string | number | null }[]>(
      'SELECT MAX(seq) AS seq FROM audit_events',
    );
    return row?.seq === null || row?.seq === undefined ? null : String(row.seq);
  }
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
