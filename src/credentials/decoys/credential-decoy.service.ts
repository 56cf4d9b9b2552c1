import { Injectable } from '@nestjs/common';
import { AuditRequestContext } from '../../audit/audit-context';
import { AuditWriter } from '../../audit/audit-writer';
import type { Principal } from '../../common/auth/principal';
import { TransactionRunner } from '../../database/transaction-runner';
import { CredentialAccess } from '../credential-access';

/**
 * Marks credentials as decoys. The flag changes nothing a non-admin can see: no response field,
 * no row version, and not even `updated_at` (MariaDB's ON UPDATE would bump it, which would tell
 * a watcher that something happened to this credential).
 */
@Injectable()
export class CredentialDecoyService {
  constructor(
    private readonly transactions: TransactionRunner,
    private readonly access: CredentialAccess,
    private readonly audit: AuditWriter,
  ) {}

  async isDecoy(id: string, principal: Principal): Promise<boolean> {
    return this.transactions.read(async (manager) => {
      await this.access.byId(manager, principal, id, 'read');
      const [row] = await manager.query<{ decoy: number | boolean | string }[]>(
        'SELECT decoy FROM credentials WHERE id = ?',
        [id],
      );
      return row.decoy === true || Number(row.decoy) === 1;
    });
  }

  async set(
    id: string,
    decoy: boolean,
    principal: Principal,
    context?: AuditRequestContext,
  ): Promise<boolean> {
    await this.transactions.run(async (manager) => {
      const credential = await this.access.byId(manager, principal, id, 'write', { lock: true });
      await manager.query(
        'UPDATE credentials SET decoy = ?, updated_at = updated_at WHERE id = ?',
        [decoy ? 1 : 0, id],
      );
      await this.audit.record(
        {
          action: 'credential.decoy.set',
          outcome: 'success',
          httpStatus: 200,
          resourceType: 'credential',
          resourceId: id,
          details: { path: credential.path, decoy },
          context,
        },
        manager,
      );
    });
    return decoy;
  }
}
