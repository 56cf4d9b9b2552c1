import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { AuditActor, SYSTEM } from '../audit/audit-context';
import { databaseNow, rowLock } from '../database/dialect';
import { retryLostRaces } from '../database/lost-race-retry';
import { TransactionRunner } from '../database/transaction-runner';
import { EventOutbox } from '../events/event-outbox';
import { Incident } from './entities/incident.entity';
import { IncidentTimelineEntry } from './entities/incident-timeline-entry.entity';
import { IncidentNotFoundError } from './incident.errors';
import { IncidentLinks, PrincipalRef } from './incident-links';
import { IncidentTimeline, TimelineEntryInput } from './incident-timeline';
import type { IncidentSeverity, IncidentType } from './incident-vocabulary';

export interface OpenOrAddInput {
  type: IncidentType;
  severity: IncidentSeverity;
  title: string;
  description?: string;
  /** Detections with the same key join one open incident opened within `windowSeconds`. */
  dedupeKey: string;
  windowSeconds: number;
  credentialIds?: string[];
  principals?: PrincipalRef[];
  /** Facts for the timeline (who, what, counts, first bad seq); never secret values. */
  detection: Record<string, unknown>;
  /** Who detected it; the system unless given. */
  actor?: AuditActor;
}

/** The fields a new incident starts with, whoever opens it. */
export interface IncidentOpening {
  type: IncidentType;
  severity: IncidentSeverity;
  title: string;
  description?: string | null;
  findings?: string | null;
  remediation?: string | null;
  affected?: string | null;
  assigneeId?: string | null;
  detectedAt?: Date;
  dedupeKey?: string | null;
  freeze?: boolean;
}

export interface IncidentScope {
  credentialIds?: string[];
  principals?: PrincipalRef[];
}

/**
 * Losers of the race for a dedupe slot run again and join the winner; this bounds the rounds
 * when many detectors fire at once (each round lets at least one of them through).
 */
const OPEN_ATTEMPTS = 20;

/**
 * Opens incidents and writes their timelines: the API detectors (leak scan, decoys, brute force,
 * audit verification, rotation failures) and the REST routes share.
 */
@Injectable()
export class IncidentRecorder {
  constructor(
    private readonly transactions: TransactionRunner,
    private readonly timeline: IncidentTimeline,
    private readonly links: IncidentLinks,
    private readonly events: EventOutbox,
  ) {}

  /**
   * Opens an incident, or adds a detection to the open one with the same dedupe key opened within
   * the window. Concurrent calls with one key yield one incident: the unique dedupe slot refuses a
   * second, and without `manager` the loser runs again and joins the winner. With `manager` the
   * caller owns the transaction, so a lost race (unique violation or deadlock) reaches the caller,
   * who runs its transaction again.
   */
  async openOrAdd(
    input: OpenOrAddInput,
    manager?: EntityManager,
  ): Promise<{ incident: Incident; opened: boolean }> {
    if (manager) return this.openOrAddIn(manager, input);
    // READ COMMITTED: the locking read of the slot sees a winner committed meanwhile, and takes
    // no gap lock on a missing slot (two gap locks make both inserts deadlock).
    return retryLostRaces(
      () => this.transactions.run((m) => this.openOrAddIn(m, input), 'READ COMMITTED'),
      OPEN_ATTEMPTS,
    );
  }

  /** One timeline entry with its audit event, in the caller's transaction (incident locked). */
  appendTimeline(
    manager: EntityManager,
    incidentId: string,
    entry: TimelineEntryInput,
  ): Promise<IncidentTimelineEntry> {
    return this.timeline.append(manager, incidentId, entry);
  }

  /**
   * A new incident in `manager`'s transaction with its scope, its first timeline entry and its
   * `incident.opened` event.
   */
  async open(
    manager: EntityManager,
    fields: IncidentOpening,
    entry: Omit<TimelineEntryInput, 'action'>,
    createdBy: string | null,
    scope: IncidentScope = {},
  ): Promise<Incident> {
    const now = await databaseNow(manager);
    const incident: Incident = {
      id: randomUUID(),
      type: fields.type,
      severity: fields.severity,
      status: 'investigating',
      title: fields.title,
      description: fields.description ?? null,
      findings: fields.findings ?? null,
      remediation: fields.remediation ?? null,
      affected: fields.affected ?? null,
      assigneeId: fields.assigneeId ?? null,
      detectedAt: fields.detectedAt ?? now,
      containedAt: null,
      resolvedAt: null,
      dedupeKey: fields.dedupeKey ?? null,
      dedupeSlot: fields.dedupeKey ?? null,
      freeze: fields.freeze ?? false,
      createdBy,
      createdAt: now,
      updatedAt: now,
      rowVersion: 1,
    };
    await manager.insert(Incident, incident);
    await this.events.publish(manager, {
      type: 'incident.opened',
      resourceType: 'incident',
      resourceId: incident.id,
      path: null,
      data: {
        incidentId: incident.id,
        type: incident.type,
        severity: incident.severity,
        title: incident.title,
      },
    });
    const linked = await this.linkScope(manager, incident.id, scope, createdBy);
    await this.timeline.append(manager, incident.id, {
      ...entry,
      action: 'incident.opened',
      details: { type: incident.type, severity: incident.severity, ...entry.details, ...linked },
    });
    return incident;
  }

  /** The incident, locked for this transaction: every writer of an incident starts here. */
  async lock(manager: EntityManager, id: string): Promise<Incident> {
    const incident = await manager.findOne(Incident, { where: { id }, lock: rowLock(manager) });
    if (!incident) throw new IncidentNotFoundError();
    return incident;
  }

  private async openOrAddIn(
    manager: EntityManager,
    input: OpenOrAddInput,
  ): Promise<{ incident: Incident; opened: boolean }> {
    const actor = input.actor ?? SYSTEM;
    const now = await databaseNow(manager);
    const holder = await manager.findOne(Incident, {
      where: { dedupeSlot: input.dedupeKey },
      lock: rowLock(manager),
    });
    const entry = {
      kind: 'detection' as const,
      text: input.title,
      details: { dedupeKey: input.dedupeKey, ...input.detection },
      actor,
    };
    if (holder && isWithinWindow(holder, input.windowSeconds, now)) {
      const linked = await this.linkScope(manager, holder.id, input, actor.id ?? null);
      await this.timeline.append(manager, holder.id, {
        ...entry,
        details: { ...entry.details, ...linked },
      });
      return { incident: holder, opened: false };
    }
    // The holder's window is over: later detections open a new incident, which takes the slot.
    if (holder) await manager.update(Incident, { id: holder.id }, { dedupeSlot: null });
    const incident = await this.open(
      manager,
      {
        type: input.type,
        severity: input.severity,
        title: input.title,
        description: input.description ?? null,
        detectedAt: now,
        dedupeKey: input.dedupeKey,
      },
      entry,
      actor.type === 'user' ? (actor.id ?? null) : null,
      input,
    );
    return { incident, opened: true };
  }

  /** Links before the timeline entry: domain rows are written before the audit lane is locked. */
  private async linkScope(
    manager: EntityManager,
    incidentId: string,
    scope: IncidentScope,
    by: string | null,
  ): Promise<{ linkedCredentialIds?: string[]; linkedPrincipals?: PrincipalRef[] }> {
    const credentials = await this.links.linkCredentials(
      manager,
      incidentId,
      scope.credentialIds ?? [],
      by,
    );
    const principals = await this.links.linkPrincipals(
      manager,
      incidentId,
      scope.principals ?? [],
      by,
    );
    return {
      ...(credentials.length ? { linkedCredentialIds: credentials } : {}),
      ...(principals.length ? { linkedPrincipals: principals } : {}),
    };
  }
}

/** Whether a detection at `now` joins `incident`: open, and opened no longer than the window ago. */
export function isWithinWindow(
  incident: Pick<Incident, 'status' | 'detectedAt'>,
  windowSeconds: number,
  now: Date,
): boolean {
  if (incident.status === 'resolved') return false;
  return now.getTime() - incident.detectedAt.getTime() <= windowSeconds * 1000;
}
