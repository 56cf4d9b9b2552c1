import { createSecretKey, KeyObject } from 'node:crypto';
import { ChainedEvent, chainHash, sameDigest } from './audit-chain';

export interface StoredEvent extends ChainedEvent {
  seq: string;
  prevHash: string | null;
  hash: string;
}

export interface ChainBreak {
  seq: string;
  lane: number;
  reason: string;
}

/** A lane's row in audit_chain_heads, read in the same snapshot as the lane's events. */
export interface LaneHead {
  lastLaneSeq: string;
  lastSeq: string | null;
  lastHash: string | null;
}

/** What a signed checkpoint says one lane's event at `laneSeq` was. */
export interface CheckpointPin {
  laneSeq: string;
  seq: string | null;
  hash: string | null;
  /** Names the checkpoint in reasons, e.g. `checkpoint 12`. */
  source: string;
}

export interface LaneExpectations {
  /**
   * The lane's head from the same snapshot; null when the lane has no head row. Without it
   * (undefined) the lane is checked on its own.
   */
  head?: LaneHead | null;
  /** Events that signed checkpoints saw: each must still be in the chain, unchanged. */
  pins?: readonly CheckpointPin[];
}

/**
 * Walks one lane in lane_seq order and reports the first event that breaks it: a gap in
 * lane_seq (an event deleted), an event out of global order, a prev_hash that does not link
 * (deleted, inserted or reordered), or a hash that does not match its content (changed). Given
 * the lane's head and checkpoint pins, it also reports an event beyond the head or one that
 * differs from what a checkpoint signed, and finish() what only the end of the lane shows.
 */
export class LaneVerifier {
  private expectedLaneSeq = 1n;
  private previousHash: string | null = null;
  private previousSeq = 0n;
  private lastSeq: string | null = null;
  private readonly pins = new Map<string, CheckpointPin[]>();
  /** An HMAC from a KeyObject skips preparing the raw key again for each of a million events. */
  private readonly hmacKeys = new Map<string, KeyObject | undefined>();
  /** The head's lane_seq, parsed once rather than for every event. */
  private readonly headLimit: { laneSeq: bigint; text: string } | null;
  verified = 0;

  constructor(
    readonly lane: number,
    private readonly keyFor: (keyId: string) => Buffer | undefined,
    private readonly expected: LaneExpectations = {},
  ) {
    const head = expected.head;
    this.headLimit = head ? { laneSeq: BigInt(head.lastLaneSeq), text: head.lastLaneSeq } : null;
    for (const pin of expected.pins ?? []) {
      if (pin.laneSeq === '0') continue;
      this.pins.set(pin.laneSeq, [...(this.pins.get(pin.laneSeq) ?? []), pin]);
    }
  }

  private hmacKey(keyId: string): KeyObject | undefined {
    if (!this.hmacKeys.has(keyId)) {
      const raw = this.keyFor(keyId);
      this.hmacKeys.set(keyId, raw ? createSecretKey(raw) : undefined);
    }
    return this.hmacKeys.get(keyId);
  }

  /**
   * Checks the next event of the lane. `digest`, when given, is chainHash of the event computed
   * elsewhere (see ChainHashWorker); it is compared here exactly as a hash computed here would be.
   */
  accept(event: StoredEvent, digest?: string): ChainBreak | null {
    const fail = (reason: string): ChainBreak => ({
      seq: String(event.seq),
      lane: this.lane,
      reason,
    });
    const laneSeq = BigInt(event.laneSeq);
    // Within one snapshot the writer moves the head with every event, so nothing lies beyond it.
    if (this.headLimit && laneSeq > this.headLimit.laneSeq) {
      return fail(
        `lane ${this.lane} has an event at lane_seq ${laneSeq} beyond its head at ${this.headLimit.text}: the head was rewound or the event inserted`,
      );
    }
    if (laneSeq !== this.expectedLaneSeq) {
      return fail(
        `lane ${this.lane} expected lane_seq ${this.expectedLaneSeq} but found ${laneSeq}: events are missing`,
      );
    }
    const seq = BigInt(event.seq);
    if (seq <= this.previousSeq) {
      return fail(
        `seq ${event.seq} is not after seq ${this.previousSeq} of the previous event of lane ${this.lane}`,
      );
    }
    if ((event.prevHash ?? null) !== this.previousHash) {
      return fail(`prev_hash does not link to the previous event of lane ${this.lane}`);
    }
    const key = this.hmacKey(event.keyId);
    if (!key) return fail(`no key for key id "${event.keyId}"`);
    if (!sameDigest(digest ?? chainHash(key, event.prevHash, event), event.hash)) {
      return fail('hash does not match the content: the event was changed');
    }
    // seq is assigned by the database after hashing, so the hash cannot cover it; a signed
    // checkpoint pins the seq (and hash) of each lane's head it saw.
    const pins = this.pins.size === 0 ? undefined : this.pins.get(String(laneSeq));
    for (const pin of pins ?? []) {
      if (pin.seq !== String(event.seq) || pin.hash !== event.hash) {
        return fail(
          `the event at lane ${this.lane}, lane_seq ${laneSeq} differs from what ${pin.source} signed`,
        );
      }
    }
    this.expectedLaneSeq = laneSeq + 1n;
    this.previousHash = event.hash;
    this.previousSeq = seq;
    this.lastSeq = String(event.seq);
    this.verified++;
    return null;
  }

  /**
   * After the last event of the lane: what the end shows. A pinned event past the end, or a head
   * further on, means events were cut from the tail; a head that names another last event, or
   * no head at all under events, means the head row was changed or deleted.
   */
  finish(): ChainBreak | null {
    const end = this.expectedLaneSeq - 1n;
    for (const pins of this.pins.values()) {
      for (const pin of pins) {
        if (BigInt(pin.laneSeq) <= end) continue;
        return {
          lane: this.lane,
          seq: pin.seq ?? this.lastSeq ?? '0',
          reason: `${pin.source} saw lane ${this.lane} at lane_seq ${pin.laneSeq}, the chain now ends at ${end}: events were removed`,
        };
      }
    }
    const head = this.expected.head;
    if (head === undefined) return null;
    if (head === null) {
      if (end === 0n) return null;
      return {
        lane: this.lane,
        seq: this.lastSeq ?? '0',
        reason: `lane ${this.lane} has events up to lane_seq ${end} but no head row: the head was deleted`,
      };
    }
    if (BigInt(head.lastLaneSeq) > end) {
      return {
        lane: this.lane,
        seq: head.lastSeq ?? this.lastSeq ?? '0',
        reason: `lane ${this.lane} ends at lane_seq ${end} but its head records ${head.lastLaneSeq}: events were removed from the end`,
      };
    }
    if (end > 0n && (head.lastSeq !== this.lastSeq || head.lastHash !== this.previousHash)) {
      return {
        lane: this.lane,
        seq: this.lastSeq ?? '0',
        reason: `the head of lane ${this.lane} names another event than its last one at lane_seq ${end}: the head was changed`,
      };
    }
    return null;
  }

  /** The last verified lane_seq, seq and hash of this lane. */
  get head(): { laneSeq: string; seq: string | null; hash: string | null } {
    return {
      laneSeq: String(this.expectedLaneSeq - 1n),
      seq: this.lastSeq,
      hash: this.previousHash,
    };
  }
}
