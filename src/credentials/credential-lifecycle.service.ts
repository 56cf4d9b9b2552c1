import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { AuditRequestContext } from '../audit/audit-context';
import { AuditWriter } from '../audit/audit-writer';
import type { Principal } from '../common/auth/principal';
import { databaseNow } from '../database/dialect';
import { TransactionRunner } from '../database/transaction-runner';
import { CredentialAccess } from './credential-access';
import { CredentialStateError } from './credential.errors';
import { Credential } from './entities/credential.entity';
import { VersionStore } from './version-store';
import { clock } from '../common/clock';

/** Soft delete, restore, and destroy (crypto-shred); each needs `delete` on the path. */
@Injectable()
export class CredentialLifecycleService {
  constructor(
    private readonly transactions: TransactionRunner,
    private readonly audit: AuditWriter,
    private readonly access: CredentialAccess,
    private readonly versions: VersionStore,
  ) {}

  /** Hides the credential and stops every reveal; its versions stay encrypted until destroyed. */
  async softDelete(id: string, principal: Principal, context?: AuditRequestContext): Promise<void> {
    await this.transactions.run(async (manager) => {
      const credential = await this.access.byId(manager, principal, id, 'delete', { lock: true });
      await manager.update(
        Credential,
        { id },
        { status: 'deleted', deletedAt: clock.date(), rowVersion: credential.rowVersion + 1 },
      );
      await this.record(manager, 'credential.delete', 204, credential, context);
    });
  }

  async restore(
    id: string,
    principal: Principal,
    context?: AuditRequestContext,
  ): Promise<Credential> {
    return this.transactions.run(async (manager) => {
      const credential = await this.access.byId(manager, principal, id, 'delete', {
        lock: true,
        includeDeleted: true,
      });
      if (credential.status !== 'deleted') {
        throw new CredentialStateError('Only a deleted credential can be restored');
      }
      await manager.update(
        Credential,
        { id },
        { status: 'active', deletedAt: null, rowVersion: credential.rowVersion + 1 },
      );
      await this.record(manager, 'credential.restore', 200, credential, context);
      return manager.findOneByOrFail(Credential, { id });
    });
  }

  /**
   * Crypto-shred: wipes the ciphertext and wrapped data key of every version, so no key, backup
   * of the keys, or later compromise can bring the secret back. The row stays as a tombstone
   * (the audit log refers to it, and its destroy event names the path), and the path is freed
   * for a new credential.
   */
  async destroy(id: string, principal: Principal, context?: AuditRequestContext): Promise<void> {
    await this.transactions.run(async (manager) => {
      const credential = await this.access.byId(manager, principal, id, 'delete', {
        lock: true,
        includeDeleted: true,
      });
      const now = await databaseNow(manager);
      const wiped = await this.versions.destroyAll(manager, id);
      await manager.update(
        Credential,
        { id },
        {
          status: 'destroyed',
          path: tombstonePath(id),
          deletedAt: credential.deletedAt ?? now,
          destroyedAt: now,
          secretInfo: null,
          rowVersion: credential.rowVersion + 1,
        },
      );
      await this.record(manager, 'credential.destroy', 204, credential, context, {
        versions: wiped,
      });
    });
  }

  private record(
    manager: EntityManager,
    action: string,
    httpStatus: number,
    credential: Credential,
    context?: AuditRequestContext,
    extra: Record<string, unknown> = {},
  ): Promise<void> {
    return this.audit.record(
      {
        action,
        outcome: 'success',
        httpStatus,
        resourceType: 'credential',
        resourceId: credential.id,
        details: { path: credential.path, ...extra },
        context,
      },
      manager,
    );
  }
}

/** Never a valid credential path ('#'), so it can neither collide nor match a grant. */
function tombstonePath(id: string): string {
  return `#destroyed/${id}`;
}
