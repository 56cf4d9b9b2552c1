import { Dialect, timestampParam } from '../database/dialect';
import { ChainedEvent } from './chain/audit-chain';

/** An event with its place in the chain, before the database has given it a seq. */
export type HashedEvent = ChainedEvent & { prevHash: string | null; hash: string };

const COLUMNS = [
  'lane',
  'lane_seq',
  'occurred_at',
  'actor_type',
  'actor_id',
  'actor_display',
  'ip',
  'user_agent',
  'request_id',
  'action',
  'resource_type',
  'resource_id',
  'outcome',
  'http_status',
  'details',
  'key_id',
  'prev_hash',
  'hash',
];
const ROW = `(${COLUMNS.map(() => '?').join(', ')})`;

/**
 * A multi-row INSERT in plain SQL, returning the seqs in insertion order (RETURNING: MariaDB
 * 10.5+, SQLite 3.35+). Plain SQL because it runs for every event, on the request path.
 */
export function insertAuditEvents(
  dialect: Dialect,
  events: HashedEvent[],
): { sql: string; parameters: unknown[] } {
  return {
    sql: `INSERT INTO audit_events (${COLUMNS.join(', ')}) VALUES ${events.map(() => ROW).join(', ')} RETURNING seq`,
    parameters: events.flatMap((e) => [
      e.lane,
      e.laneSeq,
      timestampParam(dialect, e.occurredAt),
      e.actorType,
      e.actorId,
      e.actorDisplay,
      e.ip,
      e.userAgent,
      e.requestId,
      e.action,
      e.resourceType,
      e.resourceId,
      e.outcome,
      e.httpStatus,
      e.details,
      e.keyId,
      e.prevHash,
      e.hash,
    ]),
  };
}
