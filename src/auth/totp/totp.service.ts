import { Inject, Injectable } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { generateSecret, generateURI, verify } from 'otplib';
import { EntityManager } from 'typeorm';
import { AuditRequestContext } from '../../audit/audit-context';
import { AuditWriter } from '../../audit/audit-writer';
import { DomainError } from '../../common/errors/domain-error';
import { authConfig } from '../../config/auth.config';
import { KeyringService } from '../../crypto/keyring.service';
import { TransactionRunner } from '../../database/transaction-runner';
import { InvalidCredentialsError } from '../auth.errors';
import { PasswordHasher } from '../passwords/password-hasher';
import { User } from '../users/user.entity';

export class TotpError extends DomainError {
  readonly kind = 'invalid';
}

/** Codes from the step before and after the current one are accepted (clock drift). */
const TOLERANCE_SECONDS = 30;

/**
 * TOTP second factor: the secret is sealed under the TOTP purpose key and bound to the user's id;
 * a code is accepted once (the last accepted time step is kept), never replayed.
 */
@Injectable()
export class TotpService {
  constructor(
    private readonly transactions: TransactionRunner,
    private readonly keyring: KeyringService,
    private readonly hasher: PasswordHasher,
    private readonly audit: AuditWriter,
    @Inject(authConfig.KEY) private readonly config: ConfigType<typeof authConfig>,
  ) {}

  /** Starts enrolment: a new secret, not yet required at login until confirmed. */
  async enrol(
    userId: string,
    context?: AuditRequestContext,
  ): Promise<{ secret: string; otpauthUri: string }> {
    const secret = generateSecret();
    return this.transactions.run(async (manager) => {
      const user = await manager.findOneByOrFail(User, { id: userId });
      if (user.mfaEnabled)
        throw new TotpError('A second factor is already enabled; disable it first');
      await manager.update(
        User,
        { id: userId },
        { mfaSecret: this.sealSecret(userId, secret), mfaLastStep: null },
      );
      await this.record(manager, 'auth.mfa.enrol', userId, 200, context);
      return {
        secret,
        otpauthUri: generateURI({ issuer: this.config.issuer, label: user.email, secret }),
      };
    });
  }

  /** Confirms enrolment with a first code; from then on login needs a code. */
  async confirm(userId: string, code: string, context?: AuditRequestContext): Promise<void> {
    await this.transactions.run(async (manager) => {
      const user = await this.withSecret(manager, userId);
      if (user.mfaEnabled) throw new TotpError('The second factor is already enabled');
      if (!user.mfaSecret) throw new TotpError('Start with POST /auth/mfa/totp/enrol');
      if (!(await this.accept(manager, user, code))) throw new TotpError('The code is not valid');
      await manager.update(User, { id: userId }, { mfaEnabled: true });
      await this.record(manager, 'auth.mfa.confirm', userId, 204, context);
    });
  }

  /** Turns the second factor off; needs the password and a current code. */
  async disable(
    userId: string,
    password: string,
    code: string,
    context?: AuditRequestContext,
  ): Promise<void> {
    const withHash = await this.transactions.run((manager) =>
      manager
        .getRepository(User)
        .createQueryBuilder('u')
        .addSelect('u.passwordHash')
        .where('u.id = :id', { id: userId })
        .getOneOrFail(),
    );
    if (!(await this.hasher.verify(withHash.passwordHash, password)))
      throw new InvalidCredentialsError();
    await this.transactions.run(async (manager) => {
      const user = await this.withSecret(manager, userId);
      if (!user.mfaEnabled || !(await this.accept(manager, user, code)))
        throw new TotpError('The code is not valid');
      await manager.update(
        User,
        { id: userId },
        { mfaEnabled: false, mfaSecret: null, mfaLastStep: null },
      );
      await this.record(manager, 'auth.mfa.disable', userId, 204, context);
    });
  }

  /** For login: true when the code is current and has not been used before. Needs the user's row lock. */
  async verifyForLogin(
    manager: EntityManager,
    userId: string,
    code: string | undefined,
  ): Promise<boolean> {
    if (!code) return false;
    return this.accept(manager, await this.withSecret(manager, userId), code);
  }

  private async accept(manager: EntityManager, user: User, code: string): Promise<boolean> {
    if (!user.mfaSecret || !/^\d{6}$/.test(code)) return false;
    const secret = this.keyring.openValue('totp', user.mfaSecret, user.id);
    const result = await verify({
      secret,
      token: code,
      epochTolerance: TOLERANCE_SECONDS,
      ...(user.mfaLastStep !== null ? { afterTimeStep: Number(user.mfaLastStep) } : {}),
    });
    // The functional API types HOTP and TOTP results together; TOTP's carries the time step.
    const timeStep = (result as { timeStep?: number }).timeStep;
    if (!result.valid || typeof timeStep !== 'number') return false;
    await manager.update(User, { id: user.id }, { mfaLastStep: String(timeStep) });
    return true;
  }

  private withSecret(manager: EntityManager, id: string): Promise<User> {
    return manager
      .getRepository(User)
      .createQueryBuilder('u')
      .addSelect(['u.mfaSecret', 'u.mfaLastStep'])
      .where('u.id = :id', { id })
      .getOneOrFail();
  }

  private sealSecret(userId: string, secret: string): string {
    return this.keyring.sealValue('totp', secret, userId);
  }

  private record(
    manager: EntityManager,
    action: string,
    userId: string,
    httpStatus: number,
    context?: AuditRequestContext,
  ): Promise<void> {
    return this.audit.record(
      { action, outcome: 'success', httpStatus, resourceType: 'user', resourceId: userId, context },
      manager,
    );
  }
}
