import { Injectable, OnModuleInit } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import type { AuditRequestContext } from '../../audit/audit-context';
import type { Principal } from '../../common/auth/principal';
import { Credential } from '../../credentials/entities/credential.entity';
import { SecretWriteHooks, SecretWritePlan } from '../../credentials/secret-write-hooks';
import { databaseNow } from '../../database/dialect';
import { PolicySource } from '../policy/policy-source';
import { RotationMetrics } from '../rotation-metrics';
import { RotationInProgressError } from './rotation.errors';
import { RunEvents } from './run-events';
import { RunStore } from './run-store';

/**
 * A person's `PUT …/secret` and the credential's open run: it finishes a manual run that waits
 * for exactly that (with the run's grace, 0 for an emergency), and is refused while an automatic
 * run is in flight, whose rotator may already have pushed its own value to the target.
 */
@Injectable()
export class ManualWriteHook implements OnModuleInit {
  constructor(
    private readonly hooks: SecretWriteHooks,
    private readonly runs: RunStore,
    private readonly policies: PolicySource,
    private readonly events: RunEvents,
    private readonly metrics: RotationMetrics,
  ) {}

  onModuleInit(): void {
    this.hooks.register({ beforeWrite: (m, c, p, ctx) => this.beforeWrite(m, c, p, ctx) });
  }

  private async beforeWrite(
    manager: EntityManager,
    credential: Credential,
    principal: Principal,
    context?: AuditRequestContext,
  ): Promise<SecretWritePlan | undefined> {
    const run = await this.runs.openRunOf(manager, credential.id, true);
    if (!run) return undefined;
    if (run.status !== 'waiting') throw new RotationInProgressError(run.id);
    return {
      graceSeconds: run.graceSeconds,
      afterPromote: async (promotion) => {
        const now = await databaseNow(manager);
        const finished = Object.assign(run, {
          step: 'done' as const,
          status: 'succeeded' as const,
          openSlot: null,
          pendingVersion: promotion.version,
          finishedAt: now,
          updatedAt: now,
        });
        await manager.save(finished);
        // promote() has moved `credential` on (current version, row version) as it wrote them.
        const nextRotationAt = await this.policies.reschedule(manager, credential, now);
        await this.events.succeeded(
          manager,
          finished,
          credential,
          promotion,
          nextRotationAt,
          { writtenBy: principal.id },
          { context },
        );
        this.metrics.runFinished(finished.trigger, 'succeeded');
      },
    };
  }
}
