import { Injectable } from '@nestjs/common';
import { AuditRequestContext } from '../../audit/audit-context';
import { pathPatternsSql } from '../../auth/grants/path-pattern-sql';
import type { Principal } from '../../common/auth/principal';
import { DomainError } from '../../common/errors/domain-error';
import { Credential } from '../../credentials/entities/credential.entity';
import { rowLock } from '../../database/dialect';
import { TransactionRunner } from '../../database/transaction-runner';
import type { RotationRun } from '../entities/rotation-run.entity';
import { OPENING_ISOLATION, RotationRequests } from './rotation-requests.service';
import { RotationScheduler } from './rotation-scheduler';

export interface EmergencyOutcome {
  credentialId: string;
  path: string;
  run: RotationRun | null;
  /** False when the credential's open run was made an emergency instead of a new one. */
  opened: boolean;
  error: string | null;
}

/** At most this many credentials per request; a wider pattern is refused, not half done. */
export const EMERGENCY_MAX_CREDENTIALS = 1000;

export class EmergencyScopeTooWideError extends DomainError {
  readonly kind = 'invalid';
}

/**
 * Emergency rotation of everything under a path (a leaked admin laptop, a compromised host):
 * one transaction per credential, so one that cannot be rotated does not hold up the rest, and
 * each answer says what happened to it.
 */
@Injectable()
export class EmergencyRotations {
  constructor(
    private readonly transactions: TransactionRunner,
    private readonly requests: RotationRequests,
    private readonly scheduler: RotationScheduler,
  ) {}

  async rotateUnder(
    pathPattern: string,
    reason: string,
    principal: Principal,
    context?: AuditRequestContext,
  ): Promise<EmergencyOutcome[]> {
    const targets = await this.transactions.read((manager) => {
      const match = pathPatternsSql('path', [pathPattern]);
      return manager.query<Pick<Credential, 'id' | 'path'>[]>(
        `SELECT id, path FROM credentials WHERE status = 'active' AND ${match.sql} ` +
          `ORDER BY path LIMIT ${EMERGENCY_MAX_CREDENTIALS + 1}`,
        match.parameters,
      );
    });
    if (targets.length > EMERGENCY_MAX_CREDENTIALS) {
      throw new EmergencyScopeTooWideError(
        `The pattern matches more than ${EMERGENCY_MAX_CREDENTIALS} credentials; narrow it`,
      );
    }
    const outcomes: EmergencyOutcome[] = [];
    for (const target of targets) {
      outcomes.push(await this.rotateOne(target, reason, principal, context));
    }
    return outcomes;
  }

  private async rotateOne(
    target: Pick<Credential, 'id' | 'path'>,
    reason: string,
    principal: Principal,
    context?: AuditRequestContext,
  ): Promise<EmergencyOutcome> {
    try {
      const answer = await this.transactions.run(async (manager) => {
        const credential = await manager.findOneOrFail(Credential, {
          where: { id: target.id },
          lock: rowLock(manager),
        });
        return this.requests.openOrEscalate(
          manager,
          credential,
          { emergency: true, reason, trigger: 'emergency' },
          principal,
          context,
        );
      }, OPENING_ISOLATION);
      if (answer.opened) void this.scheduler.runNow(answer.run);
      return { credentialId: target.id, path: target.path, ...answer, error: null };
    } catch (error) {
      const message = error instanceof DomainError ? error.message : 'could not open a run';
      return {
        credentialId: target.id,
        path: target.path,
        run: null,
        opened: false,
        error: message,
      };
    }
  }
}
