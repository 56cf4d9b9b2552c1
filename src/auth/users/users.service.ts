import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { keysetPage } from '../../database/keyset-page';
import { AuditRequestContext } from '../../audit/audit-context';
import { AuditWriter } from '../../audit/audit-writer';
import { rowLock } from '../../database/dialect';
import { TransactionRunner } from '../../database/transaction-runner';
import { ConflictError, UserNotFoundError } from '../auth.errors';
import { USER_CURSOR } from '../dto/user.dto';
import { AccessGrant } from '../grants/access-grant.entity';
import { PasswordHasher } from '../passwords/password-hasher';
import { assertStrongPassword } from '../passwords/password-policy';
import { SessionService } from '../sessions/session.service';
import { User, UserStatus } from './user.entity';
import { Role } from '../../common/auth/access-vocabulary';

const PAGE_MAX = 500;

/** People: created, changed and removed by admins, each change audited with it. */
@Injectable()
export class UsersService {
  constructor(
    private readonly transactions: TransactionRunner,
    private readonly hasher: PasswordHasher,
    private readonly sessions: SessionService,
    private readonly audit: AuditWriter,
  ) {}

  async create(
    input: { email: string; password: string; role: Role; mustChangePassword?: boolean },
    context?: AuditRequestContext,
    action = 'user.create',
  ): Promise<User> {
    const email = input.email.trim().toLowerCase();
    assertStrongPassword(input.password, [email]);
    const passwordHash = await this.hasher.hash(input.password);
    return this.transactions.run(async (manager) => {
      if (await manager.existsBy(User, { email }))
        throw new ConflictError('A user with this email exists');
      const id = randomUUID();
      await manager.insert(User, {
        id,
        email,
        passwordHash,
        role: input.role,
        status: 'active',
        mustChangePassword: input.mustChangePassword ?? false,
      });
      await this.audit.record(
        {
          action,
          outcome: 'success',
          httpStatus: 201,
          resourceType: 'user',
          resourceId: id,
          details: { email, role: input.role },
          context,
        },
        manager,
      );
      return manager.findOneByOrFail(User, { id });
    });
  }

  async list(limit = 100, cursor?: string): Promise<{ items: User[]; nextCursor: string | null }> {
    const take = Math.min(limit, PAGE_MAX);
    return this.transactions.run((manager) =>
      keysetPage(manager, User, 'email', USER_CURSOR, { limit: take, cursor }),
    );
  }

  async get(id: string): Promise<User> {
    const user = await this.transactions.run((manager) => manager.findOneBy(User, { id }));
    if (!user) throw new UserNotFoundError();
    return user;
  }

  /** Role or status change; either cuts the user's tokens at once. The last active admin stays. */
  async update(
    id: string,
    change: { role?: Role; status?: UserStatus },
    context?: AuditRequestContext,
  ): Promise<User> {
    return this.transactions.run(async (manager) => {
      const user = await this.lockUser(manager, id);
      const demotes = change.role !== undefined && change.role !== 'admin';
      const disables = change.status === 'disabled';
      if (user.role === 'admin' && user.status === 'active' && (demotes || disables)) {
        await this.assertAnotherActiveAdmin(manager, id);
      }
      await manager.update(User, { id }, { ...change, tokenVersion: user.tokenVersion + 1 });
      await this.sessions.revokeAllSessions(manager, id);
      await this.audit.record(
        {
          action: 'user.update',
          outcome: 'success',
          httpStatus: 200,
          resourceType: 'user',
          resourceId: id,
          details: { from: { role: user.role, status: user.status }, to: change },
          context,
        },
        manager,
      );
      return manager.findOneByOrFail(User, { id });
    });
  }

  /** An admin sets a new password; the user must change it at next login. */
  async resetPassword(id: string, password: string, context?: AuditRequestContext): Promise<void> {
    const user = await this.get(id);
    assertStrongPassword(password, [user.email]);
    const passwordHash = await this.hasher.hash(password);
    await this.transactions.run(async (manager) => {
      const locked = await this.lockUser(manager, id);
      await manager.update(
        User,
        { id },
        {
          passwordHash,
          mustChangePassword: true,
          failedLogins: 0,
          lockedUntil: null,
          tokenVersion: locked.tokenVersion + 1,
        },
      );
      await this.sessions.revokeAllSessions(manager, id);
      await this.audit.record(
        {
          action: 'user.password.reset',
          outcome: 'success',
          httpStatus: 204,
          resourceType: 'user',
          resourceId: id,
          context,
        },
        manager,
      );
    });
  }

  async remove(id: string, context?: AuditRequestContext): Promise<void> {
    await this.transactions.run(async (manager) => {
      const user = await this.lockUser(manager, id);
      if (user.role === 'admin' && user.status === 'active')
        await this.assertAnotherActiveAdmin(manager, id);
      await this.sessions.revokeAllSessions(manager, id);
      await manager.delete(AccessGrant, { principalType: 'user', principalId: id });
      await manager.delete(User, { id });
      await this.audit.record(
        {
          action: 'user.delete',
          outcome: 'success',
          httpStatus: 204,
          resourceType: 'user',
          resourceId: id,
          details: { email: user.email, role: user.role },
          context,
        },
        manager,
      );
    });
  }

  private async lockUser(manager: EntityManager, id: string): Promise<User> {
    const user = await manager.findOne(User, { where: { id }, lock: rowLock(manager) });
    if (!user) throw new UserNotFoundError();
    return user;
  }

  /** Locks the other active admins, so two concurrent demotions cannot remove the last one. */
  private async assertAnotherActiveAdmin(manager: EntityManager, exceptId: string): Promise<void> {
    const admins = await manager.find(User, {
      where: { role: 'admin', status: 'active' },
      lock: rowLock(manager),
    });
    if (!admins.some((admin) => admin.id !== exceptId)) {
      throw new ConflictError('The last active admin cannot be disabled, demoted or deleted');
    }
  }
}
