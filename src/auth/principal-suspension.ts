import { Injectable } from '@nestjs/common';
import { EntityManager, IsNull } from 'typeorm';
import { AuditRequestContext } from '../audit/audit-context';
import { AuditWriter } from '../audit/audit-writer';
import { rowLock } from '../database/dialect';
import { ApiKey } from './service-accounts/api-key.entity';
import { ServiceAccount } from './service-accounts/service-account.entity';
import { RefreshToken } from './sessions/refresh-token.entity';
import { User } from './users/user.entity';
import { clock } from '../common/clock';

export interface SuspensionOutcome {
  type: 'user' | 'service_account';
  id: string;
  found: boolean;
  /** False when it was disabled already. */
  suspended: boolean;
  apiKeysRevoked: number;
  sessionsEnded: number;
  /** Why it was left as it was (the last active admin stays; only admins suspend admins). */
  refused?: string;
}

/**
 * Cuts a principal off at once, in the caller's transaction (incident containment): a user is
 * disabled, its access tokens stop at the raised token version and its refresh tokens are
 * revoked; a service account is disabled and its API keys revoked. Doing it twice is harmless.
 */
@Injectable()
export class PrincipalSuspension {
  constructor(private readonly audit: AuditWriter) {}

  /**
   * `byAdmin: false` (a person below admin asked for it, e.g. an operator's containment) leaves an
   * admin as it is: otherwise linking admins to an incident would let an operator lock out every
   * admin but one.
   */
  async suspendUser(
    manager: EntityManager,
    id: string,
    reason: string,
    context?: AuditRequestContext,
    { byAdmin = true }: { byAdmin?: boolean } = {},
  ): Promise<SuspensionOutcome> {
    const outcome = { type: 'user' as const, id, suspended: false, apiKeysRevoked: 0 };
    const user = await manager.findOne(User, { where: { id }, lock: rowLock(manager) });
    if (!user) return { ...outcome, found: false, sessionsEnded: 0 };
    if (user.role === 'admin' && user.status === 'active' && !byAdmin) {
      return {
        ...outcome,
        found: true,
        sessionsEnded: 0,
        refused: 'an admin, which only an admin may suspend',
      };
    }
    if (user.role === 'admin' && user.status === 'active') {
      const admins = await manager.countBy(User, { role: 'admin', status: 'active' });
      if (admins <= 1) {
        return { ...outcome, found: true, sessionsEnded: 0, refused: 'the last active admin' };
      }
    }
    const ended = await manager.update(
      RefreshToken,
      { userId: id, revokedAt: IsNull() },
      { revokedAt: clock.date() },
    );
    const suspended = user.status !== 'disabled';
    await manager.update(User, { id }, { status: 'disabled', tokenVersion: user.tokenVersion + 1 });
    const sessionsEnded = ended.affected ?? 0;
    await this.audit.record(
      {
        action: 'user.suspend',
        outcome: 'success',
        resourceType: 'user',
        resourceId: id,
        details: { reason, sessionsEnded, wasStatus: user.status },
        context,
      },
      manager,
    );
    return { ...outcome, found: true, suspended, sessionsEnded };
  }

  async suspendServiceAccount(
    manager: EntityManager,
    id: string,
    reason: string,
    context?: AuditRequestContext,
  ): Promise<SuspensionOutcome> {
    const outcome = { type: 'service_account' as const, id, suspended: false, sessionsEnded: 0 };
    const account = await manager.findOne(ServiceAccount, {
      where: { id },
      lock: rowLock(manager),
    });
    if (!account) return { ...outcome, found: false, apiKeysRevoked: 0 };
    const revoked = await manager.update(
      ApiKey,
      { serviceAccountId: id, revokedAt: IsNull() },
      { revokedAt: clock.date() },
    );
    const suspended = account.status !== 'disabled';
    if (suspended) await manager.update(ServiceAccount, { id }, { status: 'disabled' });
    const apiKeysRevoked = revoked.affected ?? 0;
    await this.audit.record(
      {
        action: 'service_account.suspend',
        outcome: 'success',
        resourceType: 'service_account',
        resourceId: id,
        details: { reason, apiKeysRevoked, wasStatus: account.status },
        context,
      },
      manager,
    );
    return { ...outcome, found: true, suspended, apiKeysRevoked };
  }
}
