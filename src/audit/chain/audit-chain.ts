import { createHmac, KeyObject, timingSafeEqual } from 'node:crypto';
import type { AuditActorType, AuditOutcome } from '../entities/audit-event.entity';

/** The fields of an event that its hash covers, in the form they are stored. */
export interface ChainedEvent {
  lane: number;
  laneSeq: string;
  occurredAt: Date;
  actorType: AuditActorType;
  actorId: string | null;
  actorDisplay: string | null;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  action: string;
  resourceType: string | null;
  resourceId: string | null;
  outcome: AuditOutcome;
  httpStatus: number | null;
  /** Canonical JSON text, hashed exactly as stored. */
  details: string;
  keyId: string;
}

const FORMAT_VERSION = 1;

/** A fixed-order array, so the text depends on the values only, never on key order. */
export function canonicalEvent(event: ChainedEvent): string {
  return JSON.stringify([
    FORMAT_VERSION,
    event.lane,
    String(event.laneSeq),
    event.occurredAt.toISOString(),
    event.actorType,
    event.actorId,
    event.actorDisplay,
    event.ip,
    event.userAgent,
    event.requestId,
    event.action,
    event.resourceType,
    event.resourceId,
    event.outcome,
    event.httpStatus,
    event.details,
    event.keyId,
  ]);
}

/** hash = HMAC-SHA256(auditKey, prev_hash || canonical(event)); the first of a lane has no prev. */
export function chainHash(
  key: Buffer | KeyObject,
  prevHash: string | null,
  event: ChainedEvent,
): string {
  return hmacHex(key, chainHashInput(prevHash, event));
}

/** The text chainHash signs, so it can be built in one place and hashed in another. */
export function chainHashInput(prevHash: string | null, event: ChainedEvent): string {
  return `${prevHash ?? ''}\n${canonicalEvent(event)}`;
}

export function hmacHex(key: Buffer | KeyObject, text: string): string {
  return createHmac('sha256', key).update(text).digest('hex');
}

/** Room for the UTF-8 of any 128-character text (at most 3 bytes per UTF-16 unit). */
const SCRATCH_BYTES = 384;
const leftScratch = Buffer.alloc(SCRATCH_BYTES);
const rightScratch = Buffer.alloc(SCRATCH_BYTES);

/**
 * Whether two hashes or signatures are the same text, compared in constant time. Hashes and
 * signatures are written into two reused buffers: verify compares one per event, and two new
 * buffers each time were a measurable share of its garbage.
 */
export function sameDigest(a: string, b: string): boolean {
  if (a.length * 3 > SCRATCH_BYTES || b.length * 3 > SCRATCH_BYTES) {
    const left = Buffer.from(a, 'utf8');
    const right = Buffer.from(b, 'utf8');
    return left.length === right.length && timingSafeEqual(left, right);
  }
  const leftBytes = leftScratch.write(a, 'utf8');
  leftScratch.fill(0, leftBytes);
  const rightBytes = rightScratch.write(b, 'utf8');
  rightScratch.fill(0, rightBytes);
  return leftBytes === rightBytes && timingSafeEqual(leftScratch, rightScratch);
}

/** One lane's head as a checkpoint states it. */
export interface CheckpointLane {
  lane: number;
  laneSeq: string;
  seq: string | null;
  hash: string | null;
}

export function canonicalCheckpointLanes(lanes: CheckpointLane[]): string {
  return JSON.stringify(
    [...lanes]
      .sort((a, b) => a.lane - b.lane)
      .map((l) => [l.lane, String(l.laneSeq), l.seq === null ? null : String(l.seq), l.hash]),
  );
}

export function parseCheckpointLanes(text: string): CheckpointLane[] {
  const rows = JSON.parse(text) as [number, string, string | null, string | null][];
  return rows.map(([lane, laneSeq, seq, hash]) => ({ lane, laneSeq, seq, hash }));
}

/** Signs what a checkpoint says, so a copy kept outside proves the chain reached that far. */
export function signCheckpoint(
  key: Buffer,
  createdAt: Date,
  headSeq: string | null,
  lanesText: string,
): string {
  return createHmac('sha256', key)
    .update('custos audit checkpoint v1\n')
    .update(JSON.stringify([createdAt.toISOString(), headSeq, lanesText]))
    .digest('hex');
}
