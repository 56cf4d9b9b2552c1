import { Inject, Injectable, Logger } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { AuditEventInput, SYSTEM } from '../../audit/audit-context';
import { AuditWriter } from '../../audit/audit-writer';
import { loggableError } from '../../common/errors/loggable-error';
import { withTimeout } from '../../common/with-timeout';
import { rotationConfig } from '../../config/rotation.config';
import { credentialById } from '../../credentials/credential-row';
import type { Credential } from '../../credentials/entities/credential.entity';
import { databaseNow } from '../../database/dialect';
import { TransactionRunner } from '../../database/transaction-runner';
import type { EffectivePolicy } from '../policy/effective-policy';
import { PolicySource } from '../policy/policy-source';
import { RotatorRegistry } from '../rotators/rotator-registry';
import {
  claimRetirement,
  completeRetirement,
  failRetirement,
  RetirementDue,
  retirementsDue,
} from './version-retirements';

/** Versions one pass looks at, at most; the next pass takes the rest. */
export const RETIRE_BATCH = 50;

const ERROR_MAX = 500;

export interface RetirePass {
  /** Accounts retired by the rotator, or found to need nothing. */
  retired: number;
  /** Attempts that failed; each waits for its backoff. */
  failed: number;
}

type Outcome = 'retired' | 'failed' | 'left';

/** What the claim transaction decided for one version. */
type Claim =
  | { kind: 'claimed'; credential: Credential; policy: EffectivePolicy | null }
  | { kind: 'settled' }
  | { kind: 'left' };

/**
 * Retires the accounts of versions that left service (revoked: grace ended, or at once in an
 * emergency) through their rotator's `retire` hook: the mariadb rotator locks the user of an
 * alternating pair that is no longer in service. Safe on any number of instances and across
 * crashes: a version is claimed with a conditional UPDATE (a token and an expiry,
 * ROTATION_CLAIM_TTL) in a short transaction that also locks its credential, the target system
 * is called with no transaction open, and the result is written with a second conditional UPDATE
 * and its audit event. A claim lost to a crash expires and the next pass repeats the (idempotent)
 * hook; a failure backs off, ROTATION_RETRY_BACKOFF doubling up to ROTATION_FAILED_RETRY_AFTER.
 */
@Injectable()
export class VersionRetirer {
  private readonly logger = new Logger(VersionRetirer.name);

  constructor(
    private readonly transactions: TransactionRunner,
    private readonly registry: RotatorRegistry,
    private readonly policies: PolicySource,
    private readonly audit: AuditWriter,
    @Inject(rotationConfig.KEY) private readonly config: ConfigType<typeof rotationConfig>,
  ) {}

  /** One pass over the versions due now, one at a time (each may wait on a remote server). */
  async retireDue(): Promise<RetirePass> {
    const due = await this.transactions.read(async (manager) =>
      retirementsDue(manager, await databaseNow(manager), RETIRE_BATCH),
    );
    const pass: RetirePass = { retired: 0, failed: 0 };
    for (const version of due) {
      const outcome = await this.retireOne(version);
      if (outcome !== 'left') pass[outcome] += 1;
    }
    return pass;
  }

  private async retireOne(due: RetirementDue): Promise<Outcome> {
    const token = randomUUID();
    let claim: Claim;
    try {
      claim = await this.transactions.run(
        (manager) => this.claim(manager, due, token),
        'READ COMMITTED',
      );
    } catch (error) {
      this.logger.warn(
        { ...refOf(due), err: loggableError(error) },
        'Could not claim a retirement',
      );
      return 'left';
    }
    if (claim.kind === 'settled') return 'retired';
    if (claim.kind === 'left') return 'left';
    try {
      await this.callRetire(due, claim.credential, claim.policy);
    } catch (error) {
      await this.recordFailure(due, token, error);
      return 'failed';
    }
    await this.transactions.run(async (manager) => {
      if (!(await completeRetirement(manager, due, token, await databaseNow(manager)))) return;
      await this.audit.record(
        event('rotation.retired', 'success', due, claim.credential, {
          rotator: claim.policy!.rotator.kind,
        }),
        manager,
      );
    });
    return 'retired';
  }

  /**
   * Under the credential's row lock, which every transaction opening a run takes too: no claim
   * while a run is open (its apply may be giving this very account a new password, see
   * MariadbRotator), none for the account the credential uses now (it is in service again, so
   * there is nothing to retire), and none left dangling for a version no rotator can retire.
   */
  private async claim(manager: EntityManager, due: RetirementDue, token: string): Promise<Claim> {
    const credential = await credentialById(manager, due.credentialId, true);
    const now = await databaseNow(manager);
    const open = await manager.query<unknown[]>(
      "SELECT 1 AS found FROM rotation_runs WHERE credential_id = ? AND open_slot = 'open'",
      [credential.id],
    );
    if (open.length > 0) return { kind: 'left' };
    if (credential.username === due.account) {
      if (await completeRetirement(manager, due, null, now)) {
        await this.audit.record(
          event('rotation.retired', 'success', due, credential, {
            skipped: 'the account is in service again',
          }),
          manager,
        );
      }
      return { kind: 'settled' };
    }
    const policy = await this.policies.effective(manager, credential);
    if (!this.registry.find(policy?.rotator.kind)?.retire) {
      if (await completeRetirement(manager, due, null, now)) {
        await this.audit.record(
          event('rotation.retire_skipped', 'error', due, credential, {
            reason: 'the policy no longer names a rotator that retires accounts',
          }),
          manager,
        );
      }
      return { kind: 'settled' };
    }
    if (!(await claimRetirement(manager, due, token, now, this.config.claimTtlMs))) {
      return { kind: 'left' };
    }
    return { kind: 'claimed', credential, policy };
  }

  private async callRetire(
    due: RetirementDue,
    credential: Credential,
    policy: EffectivePolicy | null,
  ): Promise<void> {
    const { rotator, settings } = this.registry.resolve(policy!.rotator, credential.type);
    const context = { credential, version: due.version, account: due.account, settings };
    await withTimeout(
      rotator.retire!(context),
      this.config.stepTimeoutMs,
      'the rotator did not retire the account in time',
    );
  }

  /** Releases the claim and backs off; the failure is audited (never holding a value). */
  private async recordFailure(due: RetirementDue, token: string, error: unknown): Promise<void> {
    const message = errorText(error);
    this.logger.warn({ ...refOf(due), err: loggableError(error) }, 'Retiring an account failed');
    try {
      await this.transactions.run(async (manager) => {
        const now = await databaseNow(manager);
        const retryAt = new Date(now.getTime() + this.backoffMs(due.failures + 1));
        if (!(await failRetirement(manager, due, token, retryAt))) return;
        const credential = await credentialById(manager, due.credentialId);
        await this.audit.record(
          event('rotation.retire_failed', 'error', due, credential, {
            error: message,
            failures: due.failures + 1,
            retryAt: retryAt.toISOString(),
          }),
          manager,
        );
      });
    } catch (failure) {
      // The claim expires by itself; the next pass after it tries again.
      this.logger.error({ ...refOf(due), err: loggableError(failure) }, 'Could not record it');
    }
  }

  /** ROTATION_RETRY_BACKOFF doubled per failure, at most ROTATION_FAILED_RETRY_AFTER. */
  backoffMs(failures: number): number {
    const base = this.config.retryBackoffMs * 2 ** Math.min(failures - 1, 30);
    return Math.min(base, this.config.failedRetryAfterSeconds * 1000);
  }
}

function event(
  action: string,
  outcome: AuditEventInput['outcome'],
  due: RetirementDue,
  credential: Credential,
  details: Record<string, unknown>,
): AuditEventInput {
  return {
    action,
    outcome,
    actor: SYSTEM,
    resourceType: 'credential',
    resourceId: due.credentialId,
    details: { path: credential.path, version: due.version, account: due.account, ...details },
  };
}

function refOf(due: RetirementDue): Record<string, unknown> {
  return { credentialId: due.credentialId, version: due.version };
}

/** Rotators keep values out of their errors (see Rotator); the text is still capped. */
function errorText(error: unknown): string {
  const text = error instanceof Error ? error.message : 'retiring the account failed';
  return text.length > ERROR_MAX ? `${text.slice(0, ERROR_MAX - 1)}…` : text;
}
