import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { AuditRequestContext } from '../../audit/audit-context';
import { PrincipalSuspension, SuspensionOutcome } from '../../auth/principal-suspension';
import type { Principal } from '../../common/auth/principal';
import { DomainError } from '../../common/errors/domain-error';
import { Credential } from '../../credentials/entities/credential.entity';
import { databaseNow, rowLock } from '../../database/dialect';
import { TransactionRunner } from '../../database/transaction-runner';
import { EventOutbox } from '../../events/event-outbox';
import { RotationRequests } from '../../rotation/engine/rotation-requests.service';
import { RotationScheduler } from '../../rotation/engine/rotation-scheduler';
import { Incident } from '../entities/incident.entity';
import { IncidentLinks, PrincipalRef } from '../incident-links';
import { IncidentRecorder } from '../incident-recorder';
import { IncidentsService } from '../incidents.service';
import { containmentRecordOf, isHandled } from './containment-record';

export interface CredentialContainment {
  credentialId: string;
  path: string | null;
  /** rotating: an automatic rotator replaces it with grace 0; must_rotate: a person must. */
  outcome: 'rotating' | 'must_rotate' | 'already_handled' | 'failed';
  runId: string | null;
  error: string | null;
}

export interface ContainmentResult {
  incident: Incident;
  credentials: CredentialContainment[];
  principals: SuspensionOutcome[];
}

/**
 * OPENING_ISOLATION of the rotation engine: opening a run reads the open run after locking the
 * credential, and must see one committed while it waited.
 */
const OPENING_ISOLATION = 'READ COMMITTED';

/**
 * `POST /incidents/:id/contain`: freeze first (so nothing more is read while the rest runs), then
 * one transaction per credential and per principal, so one that fails does not hold up the others
 * and each lands in the timeline with what happened to it; last, the incident moves to contained.
 * Calling it again skips the credentials an earlier containment of this incident handled (their run
 * still going or succeeded) and rotates again those whose emergency run failed.
 */
@Injectable()
export class IncidentContainment {
  constructor(
    private readonly transactions: TransactionRunner,
    private readonly recorder: IncidentRecorder,
    private readonly incidents: IncidentsService,
    private readonly links: IncidentLinks,
    private readonly requests: RotationRequests,
    private readonly scheduler: RotationScheduler,
    private readonly suspension: PrincipalSuspension,
    private readonly events: EventOutbox,
  ) {}

  async contain(
    id: string,
    request: { note?: string; freeze?: boolean },
    principal: Principal,
    context?: AuditRequestContext,
  ): Promise<ContainmentResult> {
    const scope = await this.transactions.run(async (manager) => {
      const incident = await this.recorder.lock(manager, id);
      if (request.freeze && !incident.freeze) {
        await manager.update(
          Incident,
          { id },
          { freeze: true, rowVersion: incident.rowVersion + 1 },
        );
        await this.recorder.appendTimeline(manager, id, {
          kind: 'action',
          action: 'incident.freeze',
          text: 'froze reveals of the linked credentials (admins excepted)',
          details: { freeze: true },
          context,
        });
      }
      return {
        credentialIds: await this.links.credentialIdsOf(manager, id),
        principals: await this.links.principalsOf(manager, id),
        handled: await this.handledCredentials(manager, id),
      };
    });
    const credentials: CredentialContainment[] = [];
    for (const credentialId of scope.credentialIds) {
      credentials.push(
        scope.handled.has(credentialId)
          ? { credentialId, path: null, outcome: 'already_handled', runId: null, error: null }
          : await this.rotate(id, credentialId, principal, context),
      );
    }
    const principals: SuspensionOutcome[] = [];
    const byAdmin = principal.type === 'user' && principal.role === 'admin';
    for (const ref of scope.principals) {
      principals.push(await this.suspend(id, ref, byAdmin, context));
    }
    const incident = await this.transactions.run(async (manager) => {
      const current = await this.recorder.lock(manager, id);
      if (current.status === 'investigating') {
        await this.incidents.transitionIn(
          manager,
          id,
          'contained',
          request.note ?? 'contained',
          context,
        );
      }
      const summary = summarize(credentials, principals);
      await this.events.publish(manager, {
        type: 'incident.contained',
        resourceType: 'incident',
        resourceId: id,
        path: null,
        data: { incidentId: id, ...summary },
      });
      await this.recorder.appendTimeline(manager, id, {
        kind: 'action',
        action: 'incident.contained',
        text: request.note ?? 'containment',
        details: summary,
        context,
      });
      return manager.findOneByOrFail(Incident, { id });
    });
    return { incident, credentials, principals };
  }

  /**
   * Credentials an earlier containment of this incident rotated or marked must-rotate, whose run
   * is still going or succeeded. One whose run failed is exposed still: it is rotated again.
   */
  private async handledCredentials(manager: EntityManager, id: string): Promise<Set<string>> {
    const record = await containmentRecordOf(manager, id);
    return new Set(
      [...record.values()].filter(isHandled).map((contained) => contained.credentialId),
    );
  }

  private async rotate(
    incidentId: string,
    credentialId: string,
    principal: Principal,
    context?: AuditRequestContext,
  ): Promise<CredentialContainment> {
    try {
      const answer = await this.transactions.run(async (manager) => {
        await this.recorder.lock(manager, incidentId);
        const credential = await manager.findOne(Credential, {
          where: { id: credentialId },
          lock: rowLock(manager),
        });
        if (!credential || credential.status !== 'active') {
          return {
            credentialId,
            path: credential?.path ?? null,
            outcome: 'failed' as const,
            runId: null,
            error: 'the credential is gone',
          };
        }
        const { run, opened } = await this.requests.openOrEscalate(
          manager,
          credential,
          { emergency: true, reason: `incident ${incidentId}`, trigger: 'incident' },
          principal,
          context,
        );
        const outcome = run.rotator === 'manual' ? ('must_rotate' as const) : ('rotating' as const);
        await this.recorder.appendTimeline(manager, incidentId, {
          kind: 'action',
          action: 'incident.contain.credential',
          text:
            outcome === 'rotating'
              ? `emergency rotation of ${credential.path} (grace 0)`
              : `${credential.path} must be rotated by a person (open action)`,
          details: {
            containment: outcome,
            credentialId,
            path: credential.path,
            runId: run.id,
            rotator: run.rotator,
            joinedOpenRun: !opened,
            ...(outcome === 'must_rotate' ? { open: true } : {}),
            at: (await databaseNow(manager)).toISOString(),
          },
          context,
        });
        return {
          credentialId,
          path: credential.path,
          outcome,
          runId: run.id,
          error: null,
          run,
          opened,
        };
      }, OPENING_ISOLATION);
      if ('run' in answer && answer.opened) void this.scheduler.runNow(answer.run);
      return {
        credentialId: answer.credentialId,
        path: answer.path,
        outcome: answer.outcome,
        runId: answer.runId,
        error: answer.error,
      };
    } catch (error) {
      const message = error instanceof DomainError ? error.message : 'could not open a rotation';
      await this.note(
        incidentId,
        'incident.contain.credential',
        `could not rotate: ${message}`,
        { credentialId, error: message },
        context,
      );
      return { credentialId, path: null, outcome: 'failed', runId: null, error: message };
    }
  }

  private async suspend(
    incidentId: string,
    ref: PrincipalRef,
    byAdmin: boolean,
    context?: AuditRequestContext,
  ): Promise<SuspensionOutcome> {
    return this.transactions.run(async (manager) => {
      await this.recorder.lock(manager, incidentId);
      const reason = `incident ${incidentId}`;
      const outcome =
        ref.type === 'user'
          ? await this.suspension.suspendUser(manager, ref.id, reason, context, { byAdmin })
          : await this.suspension.suspendServiceAccount(manager, ref.id, reason, context);
      await this.recorder.appendTimeline(manager, incidentId, {
        kind: 'action',
        action: 'incident.contain.principal',
        text: describe(outcome),
        details: { ...outcome },
        context,
      });
      return outcome;
    });
  }

  private async note(
    incidentId: string,
    action: string,
    text: string,
    details: Record<string, unknown>,
    context?: AuditRequestContext,
  ): Promise<void> {
    await this.transactions.run(async (manager) => {
      await this.recorder.lock(manager, incidentId);
      await this.recorder.appendTimeline(manager, incidentId, {
        kind: 'action',
        action,
        text,
        details,
        context,
      });
    });
  }
}

function summarize(credentials: CredentialContainment[], principals: SuspensionOutcome[]) {
  const ids = (outcome: CredentialContainment['outcome']) =>
    credentials.filter((c) => c.outcome === outcome).map((c) => c.credentialId);
  return {
    rotating: ids('rotating'),
    mustRotate: ids('must_rotate'),
    alreadyHandled: ids('already_handled'),
    failed: ids('failed'),
    suspended: principals
      .filter((p) => p.found && !p.refused)
      .map((p) => ({ type: p.type, id: p.id })),
  };
}

function describe(outcome: SuspensionOutcome): string {
  const who = outcome.type === 'user' ? `user ${outcome.id}` : `service account ${outcome.id}`;
  if (!outcome.found) return `${who} no longer exists`;
  if (outcome.refused) return `${who} left active: ${outcome.refused}`;
  return outcome.type === 'user'
    ? `suspended ${who}; ${outcome.sessionsEnded} session(s) ended`
    : `suspended ${who}; ${outcome.apiKeysRevoked} API key(s) revoked`;
}
