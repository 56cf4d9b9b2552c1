import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { ANONYMOUS, AuditActor, AuditRequestContext } from '../audit/audit-context';
import { AuditSeals } from '../audit/audit-seals';
import { AuditWriter } from '../audit/audit-writer';
import { databaseNow } from '../database/dialect';
import { IncidentTimelineEntry } from './entities/incident-timeline-entry.entity';
import type { TimelineKind } from './incident-vocabulary';
import {
  ENTRY_SEAL_FIELD,
  entryEventDetails,
  entrySealText,
  TIMELINE_SEAL_PURPOSE,
} from './timeline-integrity';

export interface TimelineEntryInput {
  kind: TimelineKind;
  /** What a person wrote (a comment, a transition's note) or a one-line summary of an action. */
  text?: string | null;
  /** Facts (ids, states, outcomes); never secret values: the audit writer redacts any that slip in. */
  details?: Record<string, unknown>;
  /** The audit action; `incident.<kind>` unless a more precise one is given. */
  action?: string;
  /** Who did it; the request's actor when omitted, else anonymous. */
  actor?: AuditActor;
  context?: AuditRequestContext;
}

/** An audit action for each kind: the timeline and the audit log tell the same story. */
const AUDIT_ACTIONS: Record<TimelineKind, string> = {
  transition: 'incident.transitioned',
  comment: 'incident.comment',
  action: 'incident.action',
  detection: 'incident.detection',
  link: 'incident.link',
};

/**
 * Appends to incidents' timelines. Each entry is written with its audit event in the caller's
 * transaction and keeps that event's seq; the event records the entry and a seal (keyed digest)
 * of its exact row, so TimelineReader finds a row changed, inserted or removed later.
 */
@Injectable()
export class IncidentTimeline {
  constructor(
    private readonly audit: AuditWriter,
    private readonly seals: AuditSeals,
  ) {}

  /**
   * The caller holds the incident's row lock (every writer of an incident takes it first), so the
   * next seq read here cannot be taken by another transaction.
   */
  async append(
    manager: EntityManager,
    incidentId: string,
    entry: TimelineEntryInput,
  ): Promise<IncidentTimelineEntry> {
    const actor = entry.actor ?? entry.context?.actor ?? ANONYMOUS;
    const details = entry.details ?? {};
    const [last] = await manager.query<{ seq: number | string | null }[]>(
      'SELECT MAX(seq) AS seq FROM incident_timeline WHERE incident_id = ?',
      [incidentId],
    );
    const row: IncidentTimelineEntry = {
      id: randomUUID(),
      incidentId,
      seq: Number(last?.seq ?? 0) + 1,
      kind: entry.kind,
      actorType: actor.type,
      actorId: actor.id ?? null,
      actorDisplay: actor.display ?? null,
      text: entry.text ?? null,
      details: JSON.stringify(details),
      auditSeq: '0',
      occurredAt: await databaseNow(manager),
    };
    // The event first, so the row is inserted complete: a trigger refuses any UPDATE of the
    // table. The incident's row lock, taken before the lane, covers the row's insert too.
    const [auditSeq] = await this.audit.recordAll(
      [
        {
          action: entry.action ?? AUDIT_ACTIONS[entry.kind],
          outcome: 'success',
          resourceType: 'incident',
          resourceId: incidentId,
          // The seal first: the audit log keeps the first 50 fields of an event's details.
          details: {
            [ENTRY_SEAL_FIELD]: this.seals.seal(TIMELINE_SEAL_PURPOSE, entrySealText(row)),
            ...entryEventDetails(row, details),
          },
          actor,
          context: entry.context,
        },
      ],
      manager,
    );
    row.auditSeq = auditSeq;
    await manager.insert(IncidentTimelineEntry, row);
    return row;
  }
}
