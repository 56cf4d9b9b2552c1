import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { AuditActor, AuditRequestContext, SYSTEM } from '../../audit/audit-context';
import { AuditWriter } from '../../audit/audit-writer';
import type { Credential } from '../../credentials/entities/credential.entity';
import type { Promotion } from '../../credentials/version-store';
import { EventOutbox, EventType } from '../../events/event-outbox';
import type { RotationRun } from '../entities/rotation-run.entity';

type Milestone = Extract<
  EventType,
  'rotation.started' | 'rotation.succeeded' | 'rotation.failed' | 'rotation.due'
>;

/** One run's milestone: the run, its credential and the facts that go with it. */
export interface RunMilestone {
  run: RotationRun;
  credential: Pick<Credential, 'id' | 'path'>;
  facts?: Record<string, unknown>;
}

/** A run that switched its credential to the new version. */
export interface SwitchedRun {
  run: RotationRun;
  credential: Pick<Credential, 'id' | 'path'>;
  promotion: Promotion;
  nextRotationAt: Date | null;
  extra?: Record<string, unknown>;
}

/** Who a milestone is recorded for: the person or service that asked, else the scheduler. */
export interface MilestoneOrigin {
  context?: AuditRequestContext;
  actor?: AuditActor;
}

/**
 * Writes a run's milestones to the audit chain and the event outbox, in the transaction that
 * makes them true: a `rotation.succeeded` exists exactly when the switch committed.
 */
@Injectable()
export class RunEvents {
  constructor(
    private readonly audit: AuditWriter,
    private readonly events: EventOutbox,
  ) {}

  async record(
    manager: EntityManager,
    type: Milestone,
    run: RotationRun,
    credential: Pick<Credential, 'id' | 'path'>,
    facts: Record<string, unknown> = {},
    origin: MilestoneOrigin = {},
  ): Promise<void> {
    await this.recordMany(manager, type, [{ run, credential, facts }], origin);
  }

  /** `rotation.succeeded`, with what the switch did, however the run finished. */
  async succeeded(
    manager: EntityManager,
    run: RotationRun,
    credential: Pick<Credential, 'id' | 'path'>,
    promotion: Promotion,
    nextRotationAt: Date | null,
    extra: Record<string, unknown> = {},
    origin: MilestoneOrigin = {},
  ): Promise<void> {
    await this.succeededAll(
      manager,
      [{ run, credential, promotion, nextRotationAt, extra }],
      origin,
    );
  }

  /** succeeded() of a batch of runs: one audit append and one outbox insert. */
  async succeededAll(
    manager: EntityManager,
    switched: readonly SwitchedRun[],
    origin: MilestoneOrigin = {},
  ): Promise<void> {
    await this.recordMany(
      manager,
      'rotation.succeeded',
      switched.map(({ run, credential, promotion, nextRotationAt, extra }) => ({
        run,
        credential,
        facts: {
          version: promotion.version,
          previousVersion: promotion.previousVersion,
          graceUntil: promotion.graceUntil?.toISOString() ?? null,
          revoked: promotion.revoked,
          nextRotationAt: nextRotationAt?.toISOString() ?? null,
          ...extra,
        },
      })),
      origin,
    );
  }

  /** One milestone of several runs, in one audit append and one outbox insert. */
  async recordMany(
    manager: EntityManager,
    type: Milestone,
    milestones: readonly RunMilestone[],
    origin: MilestoneOrigin = {},
  ): Promise<void> {
    if (milestones.length === 0) return;
    const recorded = milestones.map(({ run, credential, facts = {} }) => ({
      credential,
      data: {
        runId: run.id,
        credentialId: credential.id,
        path: credential.path,
        rotator: run.rotator,
        trigger: run.trigger,
        emergency: run.emergency,
        attempt: run.attempt,
        ...facts,
      },
    }));
    await this.audit.recordAll(
      recorded.map(({ credential, data }) => ({
        action: type,
        outcome: type === 'rotation.failed' ? 'error' : 'success',
        resourceType: 'credential',
        resourceId: credential.id,
        details: data,
        context: origin.context,
        actor: origin.context ? origin.actor : (origin.actor ?? SYSTEM),
      })),
      manager,
    );
    await this.events.publishAll(
      manager,
      recorded.map(({ credential, data }) => ({
        type,
        resourceType: 'credential',
        resourceId: credential.id,
        path: credential.path,
        data,
      })),
    );
  }

  /** A failed attempt that will be retried: on the record, but no event for consumers. */
  async attemptFailed(
    manager: EntityManager,
    run: RotationRun,
    credential: Pick<Credential, 'id' | 'path'>,
    error: string,
    nextAttemptAt: Date,
  ): Promise<void> {
    await this.audit.record(
      {
        action: 'rotation.attempt.failed',
        outcome: 'error',
        resourceType: 'credential',
        resourceId: credential.id,
        details: {
          runId: run.id,
          path: credential.path,
          step: run.step,
          attempt: run.attempt,
          error,
          nextAttemptAt: nextAttemptAt.toISOString(),
        },
        actor: SYSTEM,
      },
      manager,
    );
  }
}
