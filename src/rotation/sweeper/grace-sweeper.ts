import { Inject, Injectable } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { EntityManager, In } from 'typeorm';
import { SYSTEM } from '../../audit/audit-context';
import { AuditWriter } from '../../audit/audit-writer';
import { rotationConfig } from '../../config/rotation.config';
import { Credential } from '../../credentials/entities/credential.entity';
import { RevokedVersion, VersionRef, VersionStore } from '../../credentials/version-store';
import { TransactionRunner } from '../../database/transaction-runner';
import { EventOutbox } from '../../events/event-outbox';
import { BatchOutcome, inBatches, SWEEP_BATCH, SWEEP_ISOLATION } from './sweep-batches';

export interface SweepResult {
  revoked: number;
  destroyed: number;
}

/**
 * Ends grace periods and retention (DESIGN.md §5): previous versions whose grace has passed
 * become `revoked`, revoked versions older than ROTATION_DESTROY_AFTER are wiped (`destroyed`).
 * Each batch is one transaction holding the state change, its audit events and its outbox
 * events, so a version is reported exactly when its change commits, and by one instance only
 * (see VersionStore.revokeExpired).
 */
@Injectable()
export class GraceSweeper {
  constructor(
    private readonly transactions: TransactionRunner,
    private readonly versions: VersionStore,
    private readonly audit: AuditWriter,
    private readonly events: EventOutbox,
    @Inject(rotationConfig.KEY) private readonly config: ConfigType<typeof rotationConfig>,
  ) {}

  /** One full pass; safe to run on every instance at once. */
  async sweep(): Promise<SweepResult> {
    const revoked = await inBatches(() =>
      this.transactions.run((manager) => this.revokeBatch(manager), SWEEP_ISOLATION),
    );
    // After revoking: a grace that ended longer ago than the retention is wiped in the same pass.
    const destroyed = await inBatches(() =>
      this.transactions.run((manager) => this.destroyBatch(manager), SWEEP_ISOLATION),
    );
    return { revoked, destroyed };
  }

  private async revokeBatch(manager: EntityManager): Promise<BatchOutcome> {
    const revoked = await this.versions.revokeExpired(manager, SWEEP_BATCH);
    if (revoked.length === 0) return { taken: 0, reported: 0 };
    const paths = await pathsOf(manager, revoked);
    await this.audit.recordAll(
      revoked.map((v) => ({
        action: 'credential.version.revoked',
        outcome: 'success',
        actor: SYSTEM,
        resourceType: 'credential',
        resourceId: v.credentialId,
        details: revokedFacts(v, paths),
      })),
      manager,
    );
    await this.events.publishAll(
      manager,
      revoked.map((v) => ({
        type: 'credential.version.revoked',
        resourceType: 'credential',
        resourceId: v.credentialId,
        path: paths.get(v.credentialId) ?? null,
        data: { ...revokedFacts(v, paths), reason: 'grace_ended' },
      })),
    );
    // Rows another transaction changed first are neither reported nor counted: such a batch
    // comes back short and ends the pass; the next pass takes up what is left.
    return { taken: revoked.length, reported: revoked.length };
  }

  private async destroyBatch(manager: EntityManager): Promise<BatchOutcome> {
    const destroyed = await this.versions.destroyRevoked(
      manager,
      this.config.destroyAfterSeconds,
      SWEEP_BATCH,
    );
    if (destroyed.length === 0) return { taken: 0, reported: 0 };
    const paths = await pathsOf(manager, destroyed);
    await this.audit.recordAll(
      destroyed.map((v) => ({
        action: 'credential.version.destroyed',
        outcome: 'success',
        actor: SYSTEM,
        resourceType: 'credential',
        resourceId: v.credentialId,
        details: {
          credentialId: v.credentialId,
          path: paths.get(v.credentialId) ?? null,
          version: v.version,
          revokedAt: v.revokedAt.toISOString(),
          reason: 'retention_ended',
        },
      })),
      manager,
    );
    return { taken: destroyed.length, reported: destroyed.length };
  }
}

function revokedFacts(v: RevokedVersion, paths: Map<string, string>): Record<string, unknown> {
  return {
    credentialId: v.credentialId,
    path: paths.get(v.credentialId) ?? null,
    version: v.version,
    graceUntil: v.graceUntil.toISOString(),
  };
}

/** The paths of the versions' credentials: a plain read, no lock (a rename may follow freely). */
async function pathsOf(manager: EntityManager, refs: VersionRef[]): Promise<Map<string, string>> {
  const ids = [...new Set(refs.map((r) => r.credentialId))];
  const rows = await manager.find(Credential, {
    select: { id: true, path: true },
    where: { id: In(ids) },
  });
  return new Map(rows.map((row) => [row.id, row.path]));
}
