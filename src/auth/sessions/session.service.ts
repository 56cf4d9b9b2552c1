import { Inject, Injectable } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { EntityManager, IsNull } from 'typeorm';
import { AuditRequestContext } from '../../audit/audit-context';
import { AuditWriter } from '../../audit/audit-writer';
import { authConfig } from '../../config/auth.config';
import { rowLock } from '../../database/dialect';
import { TransactionRunner } from '../../database/transaction-runner';
import { InvalidCredentialsError, InvalidTokenError } from '../auth.errors';
import { PasswordHasher } from '../passwords/password-hasher';
import { assertStrongPassword } from '../passwords/password-policy';
import { TotpService } from '../totp/totp.service';
import { User } from '../users/user.entity';
import { RefreshToken } from './refresh-token.entity';
import { TokenPair, TokenService } from './token.service';
import { clock } from '../../common/clock';

const MFA_REQUIRED = Symbol('mfa-required');

export interface LoginResult extends TokenPair {
  mustChangePassword: boolean;
}

/**
 * Login, refresh, logout and password change. Every outcome is audited in the same transaction
 * as the change it makes; failures are committed (counter, lockout, event) before the generic
 * error is thrown.
 */
@Injectable()
export class SessionService {
  constructor(
    private readonly transactions: TransactionRunner,
    private readonly tokens: TokenService,
    private readonly hasher: PasswordHasher,
    private readonly audit: AuditWriter,
    private readonly totp: TotpService,
    @Inject(authConfig.KEY) private readonly config: ConfigType<typeof authConfig>,
  ) {}

  async login(
    email: string,
    password: string,
    totp?: string,
    context?: AuditRequestContext,
  ): Promise<LoginResult> {
    const normalized = email.trim().toLowerCase();
    const found = await this.transactions.run((m) => this.findWithHash(m, normalized));
    const passwordOk = found
      ? await this.hasher.verify(found.passwordHash, password)
      : await this.hasher.verifyNobody(password);
    const result = await this.transactions.run(async (manager) => {
      // Locked: concurrent failures of one account must each see the count the last one left,
      // or a burst of parallel guesses would all write "1" and never reach the lockout.
      const user = found
        ? await manager.findOne(User, { where: { id: found.id }, lock: rowLock(manager) })
        : null;
      const subject = { resourceType: 'user', resourceId: user?.id ?? null, context };
      if (!user) {
        await this.audit.record(
          {
            ...subject,
            action: 'auth.login.failed',
            outcome: 'denied',
            httpStatus: 401,
            details: { reason: 'unknown_email', email: normalized },
          },
          manager,
        );
        return null;
      }
      if (user.lockedUntil && user.lockedUntil.getTime() > clock.now()) {
        await this.audit.record(
          {
            ...subject,
            action: 'auth.login.locked',
            outcome: 'denied',
            httpStatus: 401,
            details: { lockedUntil: user.lockedUntil.toISOString() },
          },
          manager,
        );
        return null;
      }
      if (!passwordOk) {
        await this.recordFailure(manager, user, subject.context);
        return null;
      }
      if (user.status !== 'active') {
        await this.audit.record(
          {
            ...subject,
            action: 'auth.login.failed',
            outcome: 'denied',
            httpStatus: 401,
            details: { reason: 'disabled' },
          },
          manager,
        );
        return null;
      }
      if (user.mfaEnabled && !totp) {
        // The password was right: say what is missing (and count nothing).
        await this.audit.record(
          { ...subject, action: 'auth.login.mfa_required', outcome: 'denied', httpStatus: 401 },
          manager,
        );
        return MFA_REQUIRED;
      }
      if (user.mfaEnabled && !(await this.totp.verifyForLogin(manager, user.id, totp))) {
        await this.recordFailure(manager, user, subject.context, 'wrong_totp');
        return null;
      }
      await manager.update(User, { id: user.id }, { failedLogins: 0, lockedUntil: null });
      const issued = await this.tokens.issue(manager, user);
      await this.audit.record(
        {
          ...subject,
          action: 'auth.login',
          outcome: 'success',
          httpStatus: 200,
          actor: { type: 'user', id: user.id, display: user.email },
        },
        manager,
      );
      return { ...issued.tokens, mustChangePassword: user.mustChangePassword };
    });
    if (result === MFA_REQUIRED) throw new InvalidTokenError('TOTP code required');
    if (!result) throw new InvalidCredentialsError();
    return result;
  }

  /** Rotates a refresh token; a token used twice revokes its whole family. */
  async refresh(token: string, context?: AuditRequestContext): Promise<LoginResult> {
    const hash = this.tokens.hashRefreshToken(token);
    const outcome = await this.transactions.run(async (manager) => {
      const stored = await manager.findOne(RefreshToken, {
        where: { tokenHash: hash },
        lock: rowLock(manager),
      });
      if (!stored) {
        await this.audit.record(
          {
            action: 'auth.refresh.failed',
            outcome: 'denied',
            httpStatus: 401,
            details: { reason: 'unknown' },
            context,
          },
          manager,
        );
        return null;
      }
      const subject = { resourceType: 'session', resourceId: stored.familyId, context };
      if (stored.revokedAt || stored.replacedBy) {
        await this.revokeFamily(manager, stored.familyId);
        await this.audit.record(
          {
            ...subject,
            action: 'auth.refresh.reuse',
            outcome: 'denied',
            httpStatus: 401,
            actor: { type: 'user', id: stored.userId },
            details: { reason: stored.replacedBy ? 'replaced_token_reused' : 'revoked_token_used' },
          },
          manager,
        );
        return null;
      }
      const user = await manager.findOneBy(User, { id: stored.userId });
      if (stored.expiresAt.getTime() <= clock.now() || !user || user.status !== 'active') {
        await this.audit.record(
          {
            ...subject,
            action: 'auth.refresh.failed',
            outcome: 'denied',
            httpStatus: 401,
            actor: { type: 'user', id: stored.userId },
            details: { reason: !user || user.status !== 'active' ? 'user_inactive' : 'expired' },
          },
          manager,
        );
        return null;
      }
      const issued = await this.tokens.issue(manager, user, stored.familyId);
      await manager.update(
        RefreshToken,
        { id: stored.id },
        { revokedAt: clock.date(), replacedBy: issued.refreshTokenId },
      );
      await this.audit.record(
        {
          ...subject,
          action: 'auth.refresh',
          outcome: 'success',
          httpStatus: 200,
          actor: { type: 'user', id: user.id, display: user.email },
        },
        manager,
      );
      return { ...issued.tokens, mustChangePassword: user.mustChangePassword };
    });
    if (!outcome) throw new InvalidTokenError('Invalid or expired refresh token');
    return outcome;
  }

  /** Ends the session the refresh token belongs to (its whole family), if it is the caller's. */
  async logout(userId: string, token: string, context?: AuditRequestContext): Promise<void> {
    const hash = this.tokens.hashRefreshToken(token);
    await this.transactions.run(async (manager) => {
      const stored = await manager.findOneBy(RefreshToken, { tokenHash: hash, userId });
      if (stored) await this.revokeFamily(manager, stored.familyId);
      await this.audit.record(
        {
          action: 'auth.logout',
          outcome: 'success',
          httpStatus: 204,
          resourceType: 'session',
          resourceId: stored?.familyId ?? null,
          context,
        },
        manager,
      );
    });
  }

  /** Changes the caller's password and ends every session of theirs, this one included. */
  async changePassword(
    userId: string,
    current: string,
    next: string,
    context?: AuditRequestContext,
  ): Promise<void> {
    const user = await this.transactions.run((m) => this.findWithHash(m, undefined, userId));
    if (!user || !(await this.hasher.verify(user.passwordHash, current))) {
      await this.audit.record({
        action: 'auth.password.change',
        outcome: 'denied',
        httpStatus: 401,
        resourceType: 'user',
        resourceId: userId,
        details: { reason: 'wrong_current_password' },
        context,
      });
      throw new InvalidCredentialsError();
    }
    assertStrongPassword(next, [user.email]);
    const passwordHash = await this.hasher.hash(next);
    await this.transactions.run(async (manager) => {
      // Counted in SQL: `user` was read in an earlier transaction, and this one may run again.
      await manager.update(
        User,
        { id: userId },
        { passwordHash, mustChangePassword: false, tokenVersion: () => 'token_version + 1' },
      );
      await this.revokeAllSessions(manager, userId);
      await this.audit.record(
        {
          action: 'auth.password.change',
          outcome: 'success',
          httpStatus: 204,
          resourceType: 'user',
          resourceId: userId,
          context,
        },
        manager,
      );
    });
  }

  async revokeAllSessions(manager: EntityManager, userId: string): Promise<void> {
    await manager.update(
      RefreshToken,
      { userId, revokedAt: IsNull() },
      { revokedAt: clock.date() },
    );
  }

  private async revokeFamily(manager: EntityManager, familyId: string): Promise<void> {
    await manager.update(
      RefreshToken,
      { familyId, revokedAt: IsNull() },
      { revokedAt: clock.date() },
    );
  }

  private async recordFailure(
    manager: EntityManager,
    user: User,
    context?: AuditRequestContext,
    reason = 'wrong_password',
  ): Promise<void> {
    const failedLogins = user.failedLogins + 1;
    const lock = failedLogins >= this.config.maxFailures;
    const lockedUntil = lock ? new Date(clock.now() + this.config.lockoutMs) : null;
    await manager.update(
      User,
      { id: user.id },
      lock ? { failedLogins: 0, lockedUntil } : { failedLogins },
    );
    const subject = { resourceType: 'user', resourceId: user.id, context };
    await this.audit.record(
      {
        ...subject,
        action: 'auth.login.failed',
        outcome: 'denied',
        httpStatus: 401,
        details: { reason, failedLogins },
      },
      manager,
    );
    if (lockedUntil) {
      await this.audit.record(
        {
          ...subject,
          action: 'auth.lockout',
          outcome: 'denied',
          httpStatus: 401,
          details: { lockedUntil: lockedUntil.toISOString(), failedLogins },
        },
        manager,
      );
    }
  }

  private findWithHash(
    manager: EntityManager,
    email?: string,
    id?: string,
  ): Promise<(User & { passwordHash: string }) | null> {
    return manager
      .getRepository(User)
      .createQueryBuilder('u')
      .addSelect('u.passwordHash')
      .where(email ? 'u.email = :email' : 'u.id = :id', { email, id })
      .getOne();
  }
}
