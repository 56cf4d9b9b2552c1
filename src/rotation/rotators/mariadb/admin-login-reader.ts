import { Injectable } from '@nestjs/common';
import { SYSTEM } from '../../../audit/audit-context';
import { AuditWriter } from '../../../audit/audit-writer';
import { VersionStore } from '../../../credentials/version-store';
import { TransactionRunner } from '../../../database/transaction-runner';
import { PermanentRotationError } from '../rotator';
import type { Login } from './mariadb-target';

/** Why the rotator reads the admin login: a run's apply step, or retiring a version's account. */
export interface AdminLoginPurpose {
  /** The credential whose rotation or retirement needs the admin login. */
  rotatedCredentialId: string;
  runId?: string;
  retiredVersion?: number;
}

interface AdminRow {
  id: string;
  path: string;
  type: string;
  status: string;
  username: string | null;
  currentVersion: number;
}

/**
 * The admin login a mariadb policy names (`adminCredentialId`): another stored password
 * credential, its username and current password. Reading it is a reveal by the rotator, audited
 * in the same transaction as the read (fail-closed, as every reveal: no audit event, no secret).
 */
@Injectable()
export class AdminLoginReader {
  constructor(
    private readonly transactions: TransactionRunner,
    private readonly versions: VersionStore,
    private readonly audit: AuditWriter,
  ) {}

  read(adminCredentialId: string, purpose: AdminLoginPurpose): Promise<Login> {
    return this.transactions.run(async (manager) => {
      const [row] = await manager.query<AdminRow[]>(
        'SELECT id, path, type, status, username, current_version AS currentVersion ' +
          'FROM credentials WHERE id = ?',
        [adminCredentialId],
      );
      if (!row || row.status !== 'active') {
        throw new PermanentRotationError('the admin credential no longer exists');
      }
      if (row.type !== 'password' || !row.username) {
        throw new PermanentRotationError(
          'the admin credential must be a password credential with a username',
        );
      }
      const version = Number(row.currentVersion);
      const { password } = await this.versions.value(manager, row.id);
      if (typeof password !== 'string') {
        throw new PermanentRotationError('the admin credential holds no password');
      }
      await this.audit.record(
        {
          action: 'credential.reveal',
          outcome: 'success',
          actor: SYSTEM,
          resourceType: 'credential',
          resourceId: row.id,
          details: {
            path: row.path,
            version,
            state: 'current',
            via: 'rotator',
            rotator: 'mariadb',
            ...purpose,
          },
        },
        manager,
      );
      return { user: row.username, password };
    });
  }
}
