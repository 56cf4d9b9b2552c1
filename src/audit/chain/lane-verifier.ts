import { timingSafeEqual } from 'node:crypto';
import { ChainedEvent, chainHash } from './audit-chain';

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

/**
 * Walks one lane in lane_seq order and reports the first event that breaks it: a gap in
 * lane_seq (an event deleted), an event out of global order, a prev_hash that does not link
 * (deleted, inserted or reordered), or a hash that does not match its content (changed).
 */
export class LaneVerifier {
  private expectedLaneSeq = 1n;
  private previousHash: string | null = null;
  private previousSeq = 0n;
  private lastSeq: string | null = null;
  verified = 0;

  constructor(
    readonly lane: number,
    private readonly keyFor: (keyId: string) => Buffer | undefined,
  ) {}

  accept(event: StoredEvent): ChainBreak | null {
    const fail = (reason: string): ChainBreak => ({
      seq: String(event.seq),
      lane: this.lane,
      reason,
    });
    const laneSeq = BigInt(event.laneSeq);
    if (laneSeq !== this.expectedLaneSeq) {
      return fail(
        `lane ${this.lane} expected lane_seq ${this.expectedLaneSeq} but found ${laneSeq}: events are missing`,
      );
    }
    if (BigInt(event.seq) <= this.previousSeq) {
      return fail(
        `seq ${event.seq} is not after seq ${this.previousSeq} of the previous event of lane ${this.lane}`,
      );
    }
    if ((event.prevHash ?? null) !== this.previousHash) {
      return fail(`prev_hash does not link to the previous event of lane ${this.lane}`);
    }
    const key = this.keyFor(event.keyId);
    if (!key) return fail(`no key for key id "${event.keyId}"`);
    if (!sameHex(chainHash(key, event.prevHash, event), event.hash)) {
      return fail('hash does not match the content: the event was changed');
    }
    this.expectedLaneSeq = laneSeq + 1n;
    this.previousHash = event.hash;
    this.previousSeq = BigInt(event.seq);
    this.lastSeq = String(event.seq);
    this.verified++;
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

function sameHex(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}
