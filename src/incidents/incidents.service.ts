import { Injectable } from '@nestjs/common';
import { EntityManager, In } from 'typeorm';
import { AuditRequestContext } from '../audit/audit-context';
import type { Principal } from '../common/auth/principal';
import { Credential } from '../credentials/entities/credential.entity';
import { databaseNow } from '../database/dialect';
import { TransactionRunner } from '../database/transaction-runner';
import { EventOutbox } from '../events/event-outbox';
import { User } from '../auth/users/user.entity';
import { ServiceAccount } from '../auth/service-accounts/service-account.entity';
import {
  INCIDENT_CURSOR,
  IncidentCreateDto,
  IncidentListQueryDto,
  INCIDENT_PAGE_DEFAULT,
  IncidentUpdateDto,
} from './dto/incident.dto';
import { IncidentOpenAction, openActionsOf } from './containment/open-actions';
import { TIMELINE_CURSOR, TIMELINE_PAGE_DEFAULT } from './dto/incident-workflow.dto';
import { Incident } from './entities/incident.entity';
import { IncidentTimelineEntry } from './entities/incident-timeline-entry.entity';
import {
  IncidentAssigneeNotFoundError,
  IncidentChangedError,
  IncidentNotFoundError,
  UnknownLinkTargetError,
} from './incident.errors';
import { IncidentLinks, PrincipalRef } from './incident-links';
import { IncidentRecorder } from './incident-recorder';
import type { IncidentStatus } from './incident-vocabulary';
import { assertTransition, stampsFor } from './incident-workflow';
import type { TimelineIntegrity } from './timeline-integrity';
import { CheckedTimeline, TimelineReader } from './timeline-reader';

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface CheckedTimelinePage extends Page<CheckedTimeline['entries'][number]> {
  integrity: TimelineIntegrity;
}

/** The incidents REST routes' work: each change in one transaction, with its timeline entry. */
@Injectable()
export class IncidentsService {
  constructor(
    private readonly transactions: TransactionRunner,
    private readonly recorder: IncidentRecorder,
    private readonly links: IncidentLinks,
    private readonly events: EventOutbox,
    private readonly timelines: TimelineReader,
  ) {}

  create(
    body: IncidentCreateDto,
    principal: Principal,
    context?: AuditRequestContext,
  ): Promise<Incident> {
    return this.transactions.run(async (manager) => {
      if (body.assigneeId) await assertUser(manager, body.assigneeId);
      return this.recorder.open(
        manager,
        { ...body, detectedAt: body.detectedAt ? new Date(body.detectedAt) : undefined },
        { kind: 'transition', text: 'opened', details: { to: 'investigating' }, context },
        principal.id,
      );
    });
  }

  async list(query: IncidentListQueryDto): Promise<Page<Incident>> {
    const limit = query.limit ?? INCIDENT_PAGE_DEFAULT;
    return this.transactions.read(async (manager) => {
      const qb = manager.createQueryBuilder(Incident, 'i');
      if (query.status) qb.andWhere('i.status = :status', { status: query.status });
      if (query.type) qb.andWhere('i.type = :type', { type: query.type });
      if (query.severity) qb.andWhere('i.severity = :severity', { severity: query.severity });
      if (query.assignee) qb.andWhere('i.assignee_id = :assignee', { assignee: query.assignee });
      if (query.from) qb.andWhere('i.detected_at >= :from', { from: new Date(query.from) });
      if (query.to) qb.andWhere('i.detected_at < :to', { to: new Date(query.to) });
      const after = INCIDENT_CURSOR.decode(query.cursor);
      if (after) {
        const [at, id] = after.split('|');
        qb.andWhere('(i.detected_at < :at OR (i.detected_at = :at AND i.id < :id))', {
          at: new Date(at),
          id,
        });
      }
      const rows = await qb
        .orderBy('i.detected_at', 'DESC')
        .addOrderBy('i.id', 'DESC')
        .take(limit + 1)
        .getMany();
      const items = rows.slice(0, limit);
      const last = items[items.length - 1];
      return {
        items,
        nextCursor:
          rows.length > limit
            ? INCIDENT_CURSOR.encode(`${last.detectedAt.toISOString()}|${last.id}`)
            : null,
      };
    });
  }

  /** The incident with what containment left for a person to do, read together. */
  get(id: string): Promise<{ incident: Incident; openActions: IncidentOpenAction[] }> {
    return this.transactions.read(async (manager) => {
      const incident = await manager.findOneBy(Incident, { id });
      if (!incident) throw new IncidentNotFoundError();
      return { incident, openActions: await openActionsOf(manager, id) };
    });
  }

  update(
    id: string,
    body: IncidentUpdateDto,
    expectedVersion: number | undefined,
    context?: AuditRequestContext,
  ): Promise<Incident> {
    return this.transactions.run(async (manager) => {
      const incident = await this.recorder.lock(manager, id);
      if (expectedVersion !== undefined && expectedVersion !== incident.rowVersion) {
        throw new IncidentChangedError(incident.rowVersion);
      }
      if (body.assigneeId) await assertUser(manager, body.assigneeId);
      const changed = Object.fromEntries(
        Object.entries(body).filter(([key, value]) => incident[key as keyof Incident] !== value),
      );
      if (Object.keys(changed).length === 0) return incident;
      await manager.update(
        Incident,
        { id },
        { ...changed, updatedAt: await databaseNow(manager), rowVersion: incident.rowVersion + 1 },
      );
      // Only the names of changed fields: the texts themselves may be long, and are in the row.
      await this.recorder.appendTimeline(manager, id, {
        kind: 'action',
        action: 'incident.update',
        text: `changed ${Object.keys(changed).join(', ')}`,
        details: {
          fields: Object.keys(changed),
          ...pick(changed, ['severity', 'assigneeId', 'freeze']),
        },
        context,
      });
      return manager.findOneByOrFail(Incident, { id });
    });
  }

  transition(
    id: string,
    to: IncidentStatus,
    note: string,
    context?: AuditRequestContext,
  ): Promise<Incident> {
    return this.transactions.run((manager) => this.transitionIn(manager, id, to, note, context));
  }

  /** In the caller's transaction; containment moves an incident here too. */
  async transitionIn(
    manager: EntityManager,
    id: string,
    to: IncidentStatus,
    note: string,
    context?: AuditRequestContext,
  ): Promise<Incident> {
    const incident = await this.recorder.lock(manager, id);
    assertTransition(incident.status, to);
    const now = await databaseNow(manager);
    await manager.update(
      Incident,
      { id },
      {
        status: to,
        ...stampsFor(to, now),
        // A resolved incident no longer takes detections: the next one opens a new incident.
        ...(to === 'resolved' ? { dedupeSlot: null } : {}),
        updatedAt: now,
        rowVersion: incident.rowVersion + 1,
      },
    );
    await this.events.publish(manager, {
      type: 'incident.transitioned',
      resourceType: 'incident',
      resourceId: id,
      path: null,
      data: { incidentId: id, from: incident.status, to },
    });
    await this.recorder.appendTimeline(manager, id, {
      kind: 'transition',
      text: note,
      details: { from: incident.status, to },
      context,
    });
    return manager.findOneByOrFail(Incident, { id });
  }

  comment(id: string, text: string, context?: AuditRequestContext): Promise<IncidentTimelineEntry> {
    return this.transactions.run(async (manager) => {
      await this.recorder.lock(manager, id);
      return this.recorder.appendTimeline(manager, id, { kind: 'comment', text, context });
    });
  }

  /** A page of the timeline, each entry checked against its audit event (TimelineReader). */
  async timeline(
    id: string,
    page: { limit?: number; cursor?: string },
  ): Promise<CheckedTimelinePage> {
    const limit = page.limit ?? TIMELINE_PAGE_DEFAULT;
    // One snapshot: a comment committed between reading the rows and the events is not a gap.
    return this.transactions.run(async (manager) => {
      if (!(await manager.existsBy(Incident, { id }))) throw new IncidentNotFoundError();
      const after = Number(TIMELINE_CURSOR.decode(page.cursor) ?? 0);
      const { entries, integrity, more } = await this.timelines.read(manager, id, { after, limit });
      return {
        items: entries,
        integrity,
        nextCursor: more
          ? TIMELINE_CURSOR.encode(String(entries[entries.length - 1].entry.seq))
          : null,
      };
    }, 'REPEATABLE READ');
  }

  async scope(id: string): Promise<{ credentialIds: string[]; principals: PrincipalRef[] }> {
    return this.transactions.read(async (manager) => {
      if (!(await manager.existsBy(Incident, { id }))) throw new IncidentNotFoundError();
      return {
        credentialIds: await this.links.credentialIdsOf(manager, id),
        principals: await this.links.principalsOf(manager, id),
      };
    });
  }

  linkCredentials(
    id: string,
    credentialIds: string[],
    principal: Principal,
    context?: AuditRequestContext,
  ) {
    return this.changeScope(id, context, async (manager) => {
      const found = await manager.find(Credential, {
        select: { id: true },
        where: { id: In(credentialIds) },
        withDeleted: true,
      });
      const missing = missingOf(credentialIds, found);
      if (missing.length) throw new UnknownLinkTargetError('credential', missing);
      const added = await this.links.linkCredentials(manager, id, credentialIds, principal.id);
      return added.length
        ? { text: 'linked credentials', details: { linkedCredentialIds: added } }
        : null;
    });
  }

  unlinkCredentials(id: string, credentialIds: string[], context?: AuditRequestContext) {
    return this.changeScope(id, context, async (manager) => {
      const removed = await this.links.unlinkCredentials(manager, id, credentialIds);
      return removed.length
        ? { text: 'unlinked credentials', details: { unlinkedCredentialIds: removed } }
        : null;
    });
  }

  linkPrincipals(
    id: string,
    principals: PrincipalRef[],
    principal: Principal,
    context?: AuditRequestContext,
  ) {
    return this.changeScope(id, context, async (manager) => {
      await assertPrincipalsExist(manager, principals);
      const added = await this.links.linkPrincipals(manager, id, principals, principal.id);
      return added.length
        ? { text: 'linked principals', details: { linkedPrincipals: added } }
        : null;
    });
  }

  unlinkPrincipals(id: string, principals: PrincipalRef[], context?: AuditRequestContext) {
    return this.changeScope(id, context, async (manager) => {
      const removed = await this.links.unlinkPrincipals(manager, id, principals);
      return removed.length
        ? { text: 'unlinked principals', details: { unlinkedPrincipals: removed } }
        : null;
    });
  }

  /** A scope change under the incident's lock, with a `link` entry when something changed. */
  private changeScope(
    id: string,
    context: AuditRequestContext | undefined,
    change: (
      manager: EntityManager,
    ) => Promise<{ text: string; details: Record<string, unknown> } | null>,
  ): Promise<{ credentialIds: string[]; principals: PrincipalRef[] }> {
    return this.transactions.run(async (manager) => {
      await this.recorder.lock(manager, id);
      const entry = await change(manager);
      if (entry)
        await this.recorder.appendTimeline(manager, id, { kind: 'link', ...entry, context });
      return {
        credentialIds: await this.links.credentialIdsOf(manager, id),
        principals: await this.links.principalsOf(manager, id),
      };
    });
  }
}

function missingOf(ids: string[], found: { id: string }[]): string[] {
  const known = new Set(found.map((row) => row.id));
  return [...new Set(ids)].filter((id) => !known.has(id));
}

async function assertUser(manager: EntityManager, id: string): Promise<void> {
  if (!(await manager.existsBy(User, { id }))) throw new IncidentAssigneeNotFoundError();
}

async function assertPrincipalsExist(manager: EntityManager, principals: PrincipalRef[]) {
  const userIds = principals.filter((p) => p.type === 'user').map((p) => p.id);
  const accountIds = principals.filter((p) => p.type === 'service_account').map((p) => p.id);
  if (userIds.length) {
    const missing = missingOf(
      userIds,
      await manager.find(User, { select: { id: true }, where: { id: In(userIds) } }),
    );
    if (missing.length) throw new UnknownLinkTargetError('user', missing);
  }
  if (accountIds.length) {
    const found = await manager.find(ServiceAccount, {
      select: { id: true },
      where: { id: In(accountIds) },
    });
    const missing = missingOf(accountIds, found);
    if (missing.length) throw new UnknownLinkTargetError('service account', missing);
  }
}

function pick(source: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => k in source).map((k) => [k, source[k]]));
}
