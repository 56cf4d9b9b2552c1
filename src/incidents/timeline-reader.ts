import { Injectable } from '@nestjs/common';
import { EntityManager, In } from 'typeorm';
import { rowValues, STORED_EVENT_COLUMNS, toStoredEvent } from '../audit/audit-event-rows';
import { AuditSeals } from '../audit/audit-seals';
import type { StoredEvent } from '../audit/chain/lane-verifier';
import { groupBy } from '../common/group-by';
import { placeholders } from '../database/dialect';
import { IncidentTimelineEntry } from './entities/incident-timeline-entry.entity';
import {
  checkTimeline,
  TIMELINE_SEAL_PURPOSE,
  TimelineIntegrity,
  TimelineSeals,
} from './timeline-integrity';

export interface CheckedTimeline {
  entries: { entry: IncidentTimelineEntry; verified: boolean }[];
  integrity: TimelineIntegrity;
  /** More entries follow the last one given. */
  more: boolean;
}

/**
 * Reads a timeline and checks it against the audit chain: each row against its audit event, and
 * the incident's timeline events against the rows, so a changed, inserted or deleted row is
 * reported in the answer instead of served as if it were true. Two queries whatever the length.
 * Run it in a REPEATABLE READ transaction: rows and events must come from one snapshot.
 */
@Injectable()
export class TimelineReader {
  private readonly seals: TimelineSeals;

  constructor(seals: AuditSeals) {
    this.seals = {
      eventIntact: (event) => seals.eventIntact(event),
      sealMatches: (seal, text) => seals.sealMatches(seal, TIMELINE_SEAL_PURPOSE, text),
      detailsAsRecorded: (details) => seals.detailsAsRecorded(details),
    };
  }

  async read(
    manager: EntityManager,
    incidentId: string,
    page: { after: number; limit?: number },
  ): Promise<CheckedTimeline> {
    const query = manager
      .createQueryBuilder(IncidentTimelineEntry, 't')
      .where('t.incident_id = :incidentId AND t.seq > :after', { incidentId, after: page.after })
      .orderBy('t.seq', 'ASC');
    const rows = await (page.limit === undefined ? query : query.take(page.limit + 1)).getMany();
    const more = page.limit !== undefined && rows.length > page.limit;
    const shown = more ? rows.slice(0, page.limit) : rows;
    const events = await this.eventsOf(manager, [incidentId]);
    const until = more ? shown[shown.length - 1].seq : null;
    const { verified, integrity } = checkTimeline(
      incidentId,
      shown,
      events,
      { after: page.after, until },
      this.seals,
    );
    return {
      entries: shown.map((entry, i) => ({ entry, verified: verified[i] })),
      integrity,
      more,
    };
  }

  /**
   * The whole timelines of several incidents checked at once, for the scheduled tamper check:
   * two queries per call whatever the number of incidents. Only the incidents with a problem
   * are answered.
   */
  async checkMany(
    manager: EntityManager,
    incidentIds: string[],
  ): Promise<{ incidentId: string; integrity: TimelineIntegrity }[]> {
    if (incidentIds.length === 0) return [];
    const rows = await manager.find(IncidentTimelineEntry, {
      where: { incidentId: In(incidentIds) },
      order: { incidentId: 'ASC', seq: 'ASC' },
    });
    const events = await this.eventsOf(manager, incidentIds);
    const rowsOf = groupBy(rows, (row) => row.incidentId);
    const eventsOf = groupBy(events, (event) => event.resourceId ?? '');
    return incidentIds
      .map((incidentId) => ({
        incidentId,
        integrity: checkTimeline(
          incidentId,
          rowsOf.get(incidentId) ?? [],
          eventsOf.get(incidentId) ?? [],
          { after: 0, until: null },
          this.seals,
        ).integrity,
      }))
      .filter(({ integrity }) => !integrity.ok);
  }

  /** The incidents' timeline events: the resource index narrows the read to these incidents. */
  private async eventsOf(manager: EntityManager, incidentIds: string[]): Promise<StoredEvent[]> {
    const rows = await manager.query<Record<string, unknown>[]>(
      `SELECT ${STORED_EVENT_COLUMNS} FROM audit_events WHERE resource_type = 'incident' ` +
        `AND resource_id IN (${placeholders(incidentIds)}) AND details LIKE ?`,
      [...incidentIds, '%"timelineSeq":%'],
    );
    return rows.map((row) => toStoredEvent(rowValues(row)));
  }
}
