import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Dialect, dialectOf, timestampParam, toDate } from '../database/dialect';
import { DirectSql } from '../database/direct-sql';
import type { AuditActorType } from './entities/audit-event.entity';

/** One actor's successful events of one action on one resource, within a time range. */
export interface ActorActivity {
  actorType: AuditActorType;
  actorId: string;
  /** As recorded with its last event (a service's name, a person's e-mail). */
  actorDisplay: string | null;
  lastAt: Date;
  /** `details.version` of its last event, for events that name a version (reveals). */
  lastVersion: number | null;
  /** The highest `details.version` among its events in the range. */
  highestVersion: number | null;
}

interface Row {
  actorType: AuditActorType;
  actorId: string;
  actorDisplay: string | null;
  lastAt: Date | string;
  lastVersion: number | string | null;
  highestVersion: number | string | null;
}

/**
 * Who did what to a resource, summed up per actor, for questions such as "who revealed this
 * credential in the last 30 days, and which version last". One statement over the index on
 * (resource_id, action, occurred_at): the events of the range are read, the rest of the
 * resource's history is not.
 */
@Injectable()
export class AuditActivityQuery {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly sql: DirectSql,
  ) {}

  /** Actors with a successful `action` on the resource in [from, until) (no until: up to now). */
  async actorsOf(
    resourceId: string,
    action: string,
    from: Date,
    until?: Date,
  ): Promise<ActorActivity[]> {
    const dialect = dialectOf(this.dataSource);
    const rows = await this.sql.select<Row>(
      'SELECT g.actorType, g.actorId, g.highestVersion, e.actor_display AS actorDisplay, ' +
        `e.occurred_at AS lastAt, ${versionOf(dialect, 'e.details')} AS lastVersion FROM (` +
        'SELECT actor_type AS actorType, actor_id AS actorId, MAX(seq) AS lastSeq, ' +
        `MAX(${versionOf(dialect, 'details')}) AS highestVersion FROM audit_events ` +
        "WHERE resource_id = ? AND action = ? AND outcome = 'success' AND actor_id IS NOT NULL " +
        `AND occurred_at >= ?${until ? ' AND occurred_at < ?' : ''} ` +
        'GROUP BY actor_type, actor_id) g JOIN audit_events e ON e.seq = g.lastSeq ' +
        'ORDER BY g.actorType, g.actorId',
      [
        resourceId,
        action,
        timestampParam(dialect, from),
        ...(until ? [timestampParam(dialect, until)] : []),
      ],
    );
    return rows.map((row) => ({
      actorType: row.actorType,
      actorId: row.actorId,
      actorDisplay: row.actorDisplay,
      lastAt: toDate(row.lastAt),
      lastVersion: numberOrNull(row.lastVersion),
      highestVersion: numberOrNull(row.highestVersion),
    }));
  }
}

/** `details.version` as a number (details are canonical JSON text). */
function versionOf(dialect: Dialect, column: string): string {
  return dialect === 'mariadb'
    ? `CAST(JSON_VALUE(${column}, '$.version') AS INTEGER)`
    : `CAST(json_extract(${column}, '$.version') AS INTEGER)`;
}

function numberOrNull(value: number | string | null): number | null {
  return value === null ? null : Number(value);
}
