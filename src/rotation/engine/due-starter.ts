import { Injectable } from '@nestjs/common';
import { EntityManager, In } from 'typeorm';
import { Credential } from '../../credentials/entities/credential.entity';
import {
  databaseNow,
  dialectOf,
  forUpdateSkipLocked,
  timestampParam,
} from '../../database/dialect';
import { TransactionRunner } from '../../database/transaction-runner';
import { RotationRun } from '../entities/rotation-run.entity';
import type { EffectivePolicy } from '../policy/effective-policy';
import { PolicySource } from '../policy/policy-source';
import { RotationMetrics } from '../rotation-metrics';
import { nextWindowOpening } from '../schedule/rotation-window';
import { RotationInProgressError } from './rotation.errors';
import type { OpenedRun } from './run-executor';
import { RunEvents } from './run-events';
import { RunOpening, RunStore } from './run-store';

/**
 * Opens runs for credentials whose time has come. Each instance locks a batch of due
 * credentials with SKIP LOCKED (MariaDB), so instances take disjoint batches; the unique open-run
 * index is the last word if two ever meet. The runs are claimed by the opener, which executes
 * them at once.
 */
@Injectable()
export class DueStarter {
  constructor(
    private readonly transactions: TransactionRunner,
    private readonly metrics: RotationMetrics,
    private readonly runs: RunStore,
    private readonly policies: PolicySource,
    private readonly events: RunEvents,
  ) {}

  /**
   * Opens runs for up to `limit` due credentials; the runs, claimed by this instance, with the
   * credential and policy each was opened under.
   */
  async startDue(limit: number): Promise<OpenedRun[]> {
    const opened = await this.openDue(limit);
    for (const { run } of opened) this.metrics.runStarted(run.trigger);
    return opened;
  }

  private openDue(limit: number): Promise<OpenedRun[]> {
    return this.transactions.run(async (manager) => {
      const due = await this.lockDue(manager, limit);
      if (due.length === 0) return [];
      const now = await databaseNow(manager);
      const policies = await this.policies.effectiveOfEach(manager, due);
      const ready: { credential: Credential; opening: RunOpening }[] = [];
      for (const credential of due) {
        const opening = await this.opening(manager, credential, policies.get(credential.id), now);
        if (opening) ready.push({ credential, opening });
      }
      const started = await this.open(manager, ready);
      if (started.length > 0) {
        // The credentials are locked by this transaction: row_version + 1 is theirs + 1.
        await manager.update(
          Credential,
          { id: In(started.map(({ credential }) => credential.id)) },
          { rotationStatus: 'rotating', rowVersion: () => 'row_version + 1' },
        );
      }
      // After the batch's other writes, as the audit writer asks: one lane lock, one insert each.
      await this.events.recordMany(
        manager,
        'rotation.started',
        started.map(({ run, credential }) => ({
          run,
          credential,
          facts: { dueAt: credential.nextRotationAt?.toISOString() ?? null },
        })),
      );
      return started.map(({ run, credential }) => {
        credential.rotationStatus = 'rotating';
        credential.rowVersion += 1;
        return { run, credential, policy: policies.get(credential.id) ?? null };
      });
    }, 'READ COMMITTED');
  }

  private async lockDue(manager: EntityManager, limit: number): Promise<Credential[]> {
    const dialect = dialectOf(manager);
    const now = timestampParam(dialect, await databaseNow(manager));
    // The index, forced: when most rows are due, the optimizer prefers a full scan and a sort,
    // which locks every due row to return `limit` of them, and other instances' SKIP LOCKED then
    // find nothing to do. Read in index order, the scan stops after `limit` rows it could lock.
    const mariadb = dialect === 'mariadb';
    const rows = await manager.query<{ id: string }[]>(
      `SELECT id FROM credentials${mariadb ? ' FORCE INDEX (idx_credentials_next_rotation)' : ''} ` +
        "WHERE next_rotation_at <= ? AND status = ? AND rotation_status IN ('scheduled', 'failed') " +
        `ORDER BY next_rotation_at LIMIT ${Number(limit)}${forUpdateSkipLocked(dialect)}`,
      [now, 'active'],
    );
    if (rows.length === 0) return [];
    return manager.findBy(Credential, { id: In(rows.map((row) => row.id)) });
  }

  /** The run to open for a due credential, or null after putting it off (no policy, window). */
  private async opening(
    manager: EntityManager,
    credential: Credential,
    policy: EffectivePolicy | null | undefined,
    now: Date,
  ): Promise<RunOpening | null> {
    if (!policy || !policy.enabled) {
      await this.policies.reschedule(manager, credential, now);
      return null;
    }
    // Due, but the tick came after the window closed: wait for it to open again.
    const opening = policy.window ? nextWindowOpening(policy.window, now) : now;
    if (opening > now) {
      await this.policies.reschedule(manager, credential, now, 'scheduled', opening);
      return null;
    }
    return {
      credentialId: credential.id,
      rotator: policy.rotator.kind,
      trigger: 'schedule',
      emergency: false,
      graceSeconds: policy.graceSeconds,
      reason: null,
      requestedBy: null,
      claim: true,
    };
  }

  /**
   * Opens the runs in one statement; if a credential has an open run already (opened from the
   * API a moment ago: that run rotates it), one by one, leaving that credential out.
   */
  private async open(
    manager: EntityManager,
    ready: { credential: Credential; opening: RunOpening }[],
  ): Promise<{ credential: Credential; run: RotationRun }[]> {
    const runs = await this.runs.openAll(
      manager,
      ready.map(({ opening }) => opening),
    );
    if (runs) return ready.map(({ credential }, i) => ({ credential, run: runs[i] }));
    const started: { credential: Credential; run: RotationRun }[] = [];
    for (const { credential, opening } of ready) {
      try {
        started.push({ credential, run: await this.runs.open(manager, opening) });
      } catch (error) {
        if (!(error instanceof RotationInProgressError)) throw error;
      }
    }
    return started;
  }
}
