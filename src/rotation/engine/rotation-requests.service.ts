import { Inject, Injectable } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { EntityManager } from 'typeorm';
import { AuditRequestContext } from '../../audit/audit-context';
import { AuditWriter } from '../../audit/audit-writer';
import type { Principal } from '../../common/auth/principal';
import { credentialsConfig } from '../../config/credentials.config';
import { CredentialAccess } from '../../credentials/credential-access';
import { CredentialNotFoundError } from '../../credentials/credential.errors';
import { Credential } from '../../credentials/entities/credential.entity';
import { TransactionRunner } from '../../database/transaction-runner';
import { RotationRun, RunTrigger } from '../entities/rotation-run.entity';
import { PolicySource } from '../policy/policy-source';
import {
  RotationInProgressError,
  RotationRunNotFoundError,
  RunNotRetryableError,
} from './rotation.errors';
import { RotationScheduler } from './rotation-scheduler';
import { RunEvents } from './run-events';
import { RunStore } from './run-store';

/**
 * Transactions that open or escalate runs read the open run after locking the credential: READ
 * COMMITTED lets that read see a run committed while they waited for the lock, whatever they
 * read before it (REPEATABLE READ would answer from the snapshot of their first read).
 */
export const OPENING_ISOLATION = 'READ COMMITTED';

export interface RotateRequest {
  emergency?: boolean;
  reason?: string;
  /** `manual` unless an incident or a leak scan asks (their modules pass it). */
  trigger?: Exclude<RunTrigger, 'schedule'>;
}

export interface RotateAnswer {
  run: RotationRun;
  /** False when an emergency request joined the credential's open run instead of a new one. */
  opened: boolean;
}

/**
 * Rotations people and services ask for: now, in an emergency (grace 0), or again after a failed
 * run. The run is opened and committed first, then executed on this instance at once; the
 * answer is 202 with the run to poll, never a 2xx that hides a failure.
 */
@Injectable()
export class RotationRequests {
  constructor(
    private readonly transactions: TransactionRunner,
    private readonly access: CredentialAccess,
    private readonly runs: RunStore,
    private readonly policies: PolicySource,
    private readonly events: RunEvents,
    private readonly audit: AuditWriter,
    private readonly scheduler: RotationScheduler,
    @Inject(credentialsConfig.KEY)
    private readonly credentials: ConfigType<typeof credentialsConfig>,
  ) {}

  async rotate(
    credentialId: string,
    request: RotateRequest,
    principal: Principal,
    context?: AuditRequestContext,
  ): Promise<RotateAnswer> {
    const answer = await this.transactions.run(async (manager) => {
      const credential = await this.access.byId(manager, principal, credentialId, 'rotate', {
        lock: true,
      });
      return this.openOrEscalate(manager, credential, request, principal, context);
    }, OPENING_ISOLATION);
    if (answer.opened) void this.scheduler.runNow(answer.run);
    return answer;
  }

  /**
   * In the caller's transaction with the credential locked: a new run, or for an emergency the
   * open run made an emergency (grace 0) so the compromised value dies at the switch.
   */
  async openOrEscalate(
    manager: EntityManager,
    credential: Credential,
    request: RotateRequest,
    principal: Principal | null,
    context?: AuditRequestContext,
  ): Promise<RotateAnswer> {
    const emergency = request.emergency === true;
    const open = await this.runs.openRunOf(manager, credential.id, true);
    if (open) {
      if (!emergency) throw new RotationInProgressError(open.id);
      if (!open.emergency) {
        await manager.update(RotationRun, { id: open.id }, { emergency: true, graceSeconds: 0 });
        Object.assign(open, { emergency: true, graceSeconds: 0 });
        await this.audit.record(
          {
            action: 'rotation.escalated',
            outcome: 'success',
            resourceType: 'credential',
            resourceId: credential.id,
            details: { runId: open.id, path: credential.path, reason: request.reason ?? null },
            context,
          },
          manager,
        );
      }
      return { run: open, opened: false };
    }
    const policy = await this.policies.effective(manager, credential);
    // Without a policy nothing knows how to change the secret where it is used: a person does.
    const run = await this.runs.open(manager, {
      credentialId: credential.id,
      rotator: policy?.rotator.kind ?? 'manual',
      trigger: request.trigger ?? (emergency ? 'emergency' : 'manual'),
      emergency,
      graceSeconds: policy?.graceSeconds ?? this.credentials.previousGraceSeconds,
      reason: request.reason ?? null,
      requestedBy: principal?.id ?? null,
      claim: true,
    });
    await manager.update(
      Credential,
      { id: credential.id },
      { rotationStatus: 'rotating', rowVersion: credential.rowVersion + 1 },
    );
    await this.events.record(
      manager,
      'rotation.started',
      run,
      credential,
      { reason: run.reason },
      { context },
    );
    return { run, opened: true };
  }

  /** A failed run again, as a new run (the failed one stays in the history as it was). */
  async retry(
    runId: string,
    principal: Principal,
    context?: AuditRequestContext,
  ): Promise<RotateAnswer> {
    const answer = await this.transactions.run(async (manager) => {
      const failed = await manager.findOneBy(RotationRun, { id: runId });
      if (!failed) throw new RotationRunNotFoundError();
      // A run of a credential the caller may not see is as missing as the credential (§4.5).
      const credential = await this.access
        .byId(manager, principal, failed.credentialId, 'rotate', { lock: true })
        .catch((error: unknown) => {
          throw error instanceof CredentialNotFoundError ? new RotationRunNotFoundError() : error;
        });
      if (failed.status !== 'failed') throw new RunNotRetryableError(failed.status);
      return this.openOrEscalate(
        manager,
        credential,
        { emergency: failed.emergency, reason: `retry of run ${failed.id}` },
        principal,
        context,
      );
    }, OPENING_ISOLATION);
    if (answer.opened) void this.scheduler.runNow(answer.run);
    return answer;
  }
}
