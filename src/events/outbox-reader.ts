import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { toDate } from '../database/dialect';
import { DirectSql } from '../database/direct-sql';
import { TypeFilter, typeFilterOf, typeFilterSql } from './event-type-filter';

/** One event as listeners see it, in stream order. Never secret material. */
export interface StreamEvent {
  /** Consecutive, in the order events became visible: what a listener resumes after. */
  streamSeq: string;
  type: string;
  resourceType: string;
  resourceId: string;
  /** The credential path at the time, for checking the listener's grants. */
  path: string | null;
  data: Record<string, unknown>;
  createdAt: Date;
}

export interface StreamFilter {
  /** Exact types or `prefix.*`; absent or empty: every type. */
  types?: string[];
}

interface Row {
  streamSeq: string | number;
  type: string;
  resourceType: string;
  resourceId: string;
  path: string | null;
  payload: string;
  createdAt: Date | string;
}

/** The largest page one call reads, whatever the caller asks. */
export const MAX_READ = 1000;

/**
 * Reads the event stream by `stream_seq`. Numbers are given only to committed events, one after
 * the other (StreamSequencer), so everything up to the last number a reader saw was there when
 * it read: `after(n)` never skips an event, and reading on from the last one returned never
 * repeats one. Plain SQL on the unique index of stream_seq: every listener of every instance
 * polls it.
 */
@Injectable()
export class OutboxReader {
  constructor(private readonly sql: DirectSql) {}

  /** Up to `limit` events after `streamSeq` (0: from the start), oldest first. */
  async after(
    streamSeq: string | number,
    limit: number,
    filter: StreamFilter = {},
  ): Promise<StreamEvent[]> {
    const types = typeFilterOf(filter.types);
    const where = types ? typeCondition(types) : { sql: '', parameters: [] };
    const rows = await this.sql.select<Row>(
      'SELECT stream_seq AS streamSeq, type, resource_type AS resourceType, ' +
        'resource_id AS resourceId, path, payload, created_at AS createdAt FROM event_outbox ' +
        `WHERE stream_seq > ?${where.sql} ORDER BY stream_seq LIMIT ${pageSize(limit)}`,
      [String(seqOf(streamSeq)), ...where.parameters],
    );
    return rows.map(toStreamEvent);
  }

  /**
   * The last stream sequence given out ('0' before the first event): "from now on". Inside a unit
   * of work, pass its manager: on SQLite a read outside it would queue behind the unit itself.
   */
  async latest(manager?: EntityManager): Promise<string> {
    const sql = 'SELECT MAX(stream_seq) AS last FROM event_outbox';
    const [row] = manager
      ? await manager.query<{ last: string | number | null }[]>(sql)
      : await this.sql.select<{ last: string | number | null }>(sql, []);
    return String(row?.last ?? 0);
  }
}

function typeCondition(filter: TypeFilter): { sql: string; parameters: unknown[] } {
  const { sql, parameters } = typeFilterSql(filter);
  return { sql: ` AND ${sql}`, parameters };
}

/** A stream sequence as given by a caller (a header, a query string): a whole number ≥ 0. */
function seqOf(value: string | number): bigint {
  const text = String(value).trim();
  if (!/^\d{1,19}$/.test(text)) throw new RangeError(`not a stream sequence: ${text}`);
  return BigInt(text);
}

function pageSize(limit: number): number {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`not a page size: ${limit}`);
  return Math.min(limit, MAX_READ);
}

function toStreamEvent(row: Row): StreamEvent {
  return {
    streamSeq: String(row.streamSeq),
    type: row.type,
    resourceType: row.resourceType,
    resourceId: row.resourceId,
    path: row.path,
    data: JSON.parse(row.payload) as Record<string, unknown>,
    createdAt: toDate(row.createdAt),
  };
}
