import { Injectable } from '@nestjs/common';
import { EntityManager, In } from 'typeorm';
import { Credential } from '../../credentials/entities/credential.entity';
import { databaseNow, dialectOf, timestampParam } from '../../database/dialect';
import { TransactionRunner } from '../../database/transaction-runner';
import { PolicySource } from '../policy/policy-source';
import { nextWindowOpening } from '../schedule/rotation-window';
import { RotationInProgressError } from './rotation.errors';
import { RunEvents } from './run-events';
import { RunStore } from './run-store';

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
    private readonly runs: RunStore,
    private readonly policies: PolicySource,
    private readonly events: RunEvents,
  ) {}

  async startDue(limit: number): Promise<string[]> {
    return this.transactions.run(async (manager) => {
      const due = await this.lockDue(manager, limit);
      const started: string[] = [];
      for (const credential of due) {
        const runId = await this.start(manager, credential);
        if (runId) started.push(runId);
      }
      return started;
    });
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
        `ORDER BY next_rotation_at LIMIT ${Number(limit)}${mariadb ? ' FOR UPDATE SKIP LOCKED' : ''}`,
      [now, 'active'],
    );
    if (rows.length === 0) return [];
    return manager.findBy(Credential, { id: In(rows.map((row) => row.id)) });
  }

  private async start(manager: EntityManager, credential: Credential): Promise<string | null> {
    const now = await databaseNow(manager);
    const policy = await this.policies.effective(manager, credential);
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
    try {
      const run = await this.runs.open(manager, {
        credentialId: credential.id,
        rotator: policy.rotator.kind,
        trigger: 'schedule',
        emergency: false,
        graceSeconds: policy.graceSeconds,
        reason: null,
        requestedBy: null,
        claim: true,
      });
      await manager.update(
        Credential,
        { id: credential.id },
        { rotationStatus: 'rotating', rowVersion: credential.rowVersion + 1 },
      );
      await this.events.record(manager, 'rotation.started', run, credential, {
        dueAt: credential.nextRotationAt?.toISOString() ?? null,
      });
      return run.id;
    } catch (error) {
      // Opened from the API a moment ago: that run rotates it.
      if (error instanceof RotationInProgressError) return null;
      throw error;
    }
  }
}
