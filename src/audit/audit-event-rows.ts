import { toDate } from '../database/dialect';
import type { StoredEvent } from './chain/lane-verifier';

/** The columns verify reads, in the order of a row read as an array. */
export const STORED_EVENT_COLUMNS =
  'seq, lane, lane_seq AS laneSeq, occurred_at AS occurredAt, actor_type AS actorType, ' +
  'actor_id AS actorId, actor_display AS actorDisplay, ip, user_agent AS userAgent, ' +
  'request_id AS requestId, action, resource_type AS resourceType, resource_id AS resourceId, ' +
  'outcome, http_status AS httpStatus, details, key_id AS keyId, prev_hash AS prevHash, hash';

const NAMES = STORED_EVENT_COLUMNS.split(', ').map((column) => column.split(' AS ').pop()!);

/** A row as the driver returns it: numbers may come back as strings and times as text. */
export type EventRowValues = unknown[];

/** A row read as an object (SQLite, through TypeORM) in the order of STORED_EVENT_COLUMNS. */
export function rowValues(row: Record<string, unknown>): EventRowValues {
  return NAMES.map((name) => row[name]);
}

/**
 * The event a row holds. Built field by field rather than spread from the driver's object: verify
 * does this a million times, and one fixed shape keeps it cheap to build and to read.
 */
export function toStoredEvent(row: EventRowValues): StoredEvent {
  const httpStatus = row[14] as number | string | null;
  return {
    seq: String(row[0]),
    lane: Number(row[1]),
    laneSeq: String(row[2]),
    occurredAt: toDate(row[3] as Date | string),
    actorType: row[4] as StoredEvent['actorType'],
    actorId: row[5] as string | null,
    actorDisplay: row[6] as string | null,
    ip: row[7] as string | null,
    userAgent: row[8] as string | null,
    requestId: row[9] as string | null,
    action: row[10] as string,
    resourceType: row[11] as string | null,
    resourceId: row[12] as string | null,
    outcome: row[13] as StoredEvent['outcome'],
    httpStatus: httpStatus === null ? null : Number(httpStatus),
    details: row[15] as string,
    keyId: row[16] as string,
    prevHash: row[17] as string | null,
    hash: row[18] as string,
  };
}
