import { Inject, Injectable } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { EntityManager } from 'typeorm';
import { SYSTEM } from '../../audit/audit-context';
import { AuditWriter } from '../../audit/audit-writer';
import { rotationConfig } from '../../config/rotation.config';
import { Credential } from '../../credentials/entities/credential.entity';
import type { CredentialType } from '../../credentials/secrets/credential-type';
import {
  databaseNow,
  dialectOf,
  forUpdateSkipLocked,
  timestampParam,
  toDate,
} from '../../database/dialect';
import { TransactionRunner } from '../../database/transaction-runner';
import { EventOutbox } from '../../events/event-outbox';
import { BatchOutcome, inBatches, SWEEP_BATCH, SWEEP_ISOLATION } from './sweep-batches';

interface Expiring {
  id: string;
  path: string;
  type: CredentialType;
  expiresAt: Date;
}

/** Not yet announced for the expiry it has now: once per credential per expiry. */
const UNWARNED = '(expiry_warned_for IS NULL OR expiry_warned_for <> expires_at)';

/**
 * Raises `credential.expiring` once for each expiry of an active credential, when it comes
 * within CREDENTIALS_EXPIRY_WARNING of the database clock (an expiry already past when first
 * seen is announced too). `expiry_warned_for` records the expiry announced, in the same
 * transaction as the events, so a new expiry (a renewed certificate, a PATCH) warns again and
 * an unchanged one never does, however many instances watch.
 */
@Injectable()
export class ExpiryWatch {
  constructor(
    private readonly transactions: TransactionRunner,
    private readonly audit: AuditWriter,
    private readonly events: EventOutbox,
    @Inject(rotationConfig.KEY) private readonly config: ConfigType<typeof rotationConfig>,
  ) {}

  /** One full pass; returns how many credentials were announced by this instance. */
  watch(): Promise<number> {
    return inBatches(() =>
      this.transactions.run((manager) => this.warnBatch(manager), SWEEP_ISOLATION),
    );
  }

  private async warnBatch(manager: EntityManager): Promise<BatchOutcome> {
    const expiring = await this.takeExpiring(manager);
    const warned: Expiring[] = [];
    for (const credential of expiring) {
      if (await this.markWarned(manager, credential.id)) warned.push(credential);
    }
    const outcome = { taken: expiring.length, reported: warned.length };
    if (warned.length === 0) return outcome;
    await this.audit.recordAll(
      warned.map((c) => ({
        action: 'credential.expiring',
        outcome: 'success',
        actor: SYSTEM,
        resourceType: 'credential',
        resourceId: c.id,
        details: facts(c),
      })),
      manager,
    );
    await this.events.publishAll(
      manager,
      warned.map((c) => ({
        type: 'credential.expiring',
        resourceType: 'credential',
        resourceId: c.id,
        path: c.path,
        data: { credentialId: c.id, ...facts(c) },
      })),
    );
    return outcome;
  }

  /** Unwarned credentials expiring before the horizon, locked (others' locked rows skipped). */
  private async takeExpiring(manager: EntityManager): Promise<Expiring[]> {
    const dialect = dialectOf(manager);
    const now = await databaseNow(manager);
    const horizon = new Date(now.getTime() + this.config.expiryWarningSeconds * 1000);
    const rows = await manager.query<
      { id: string; path: string; type: string; expiresAt: unknown }[]
    >(
      'SELECT id, path, type, expires_at AS expiresAt FROM credentials ' +
        `WHERE status = 'active' AND expires_at IS NOT NULL AND expires_at <= ? AND ${UNWARNED} ` +
        `ORDER BY expires_at LIMIT ${SWEEP_BATCH}${forUpdateSkipLocked(dialect)}`,
      [timestampParam(dialect, horizon)],
    );
    return rows.map((row) => ({
      id: row.id,
      path: row.path,
      type: row.type as CredentialType,
      expiresAt: toDate(row.expiresAt as Date | string),
    }));
  }

  /**
   * Records the expiry as announced, if it still is unannounced: the condition makes a second
   * transaction that took the same row (where SKIP LOCKED does not hold) change nothing. The
   * bookkeeping is not a change of the credential: `updated_at` keeps its value.
   */
  private async markWarned(manager: EntityManager, id: string): Promise<boolean> {
    const result = await manager
      .createQueryBuilder()
      .update(Credential)
      .set({ expiryWarnedFor: () => 'expires_at', updatedAt: () => 'updated_at' })
      .where(`id = :id AND status = 'active' AND expires_at IS NOT NULL AND ${UNWARNED}`, { id })
      .execute();
    return (result.affected ?? 0) > 0;
  }
}

function facts(c: Expiring): Record<string, unknown> {
  return { path: c.path, type: c.type, expiresAt: c.expiresAt.toISOString() };
}
