import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { EntityManager, IsNull } from 'typeorm';
import { AuditRequestContext } from '../../audit/audit-context';
import { AuditWriter } from '../../audit/audit-writer';
import type { Principal } from '../../common/auth/principal';
import { databaseNow, isUniqueViolation, rowLock } from '../../database/dialect';
import { KeysetPage, keysetPage } from '../../database/keyset-page';
import { TransactionRunner } from '../../database/transaction-runner';
import { RotationPolicy } from '../entities/rotation-policy.entity';
import { PATTERN_POLICY_CURSOR } from './dto/pattern-policy-query.dto';
import { policyAuditDetails } from './policy-audit';
import { PolicyInput, policyColumns } from './policy-input';
import { PatternRescheduler } from './pattern-rescheduler';
import { RotationPolicyNotFoundError } from './rotation-policy.errors';
import { RotationPolicyService } from './rotation-policy.service';
import { RotationPolicyValidator } from './rotation-policy-validator';

export const PATTERN_POLICY_PAGE_DEFAULT = 100;

/** A pattern policy as a PUT stored it, and what the PUT wants known (a forced grace, say). */
export interface PatternPolicyWritten {
  policy: RotationPolicy;
  warnings: string[];
}

/**
 * Path-pattern rotation policies: one per pattern, for every credential under it without a policy
 * of its own. A change reschedules every credential it governs in the same transaction.
 */
@Injectable()
export class PatternPolicyService {
  constructor(
    private readonly transactions: TransactionRunner,
    private readonly audit: AuditWriter,
    private readonly policies: RotationPolicyService,
    private readonly validator: RotationPolicyValidator,
    private readonly rescheduler: PatternRescheduler,
  ) {}

  /** Ordered by pattern. */
  list(page: { limit?: number; cursor?: string }): Promise<KeysetPage<RotationPolicy>> {
    return this.transactions.read((manager) =>
      keysetPage(
        manager,
        RotationPolicy,
        'pathPattern',
        PATTERN_POLICY_CURSOR,
        { limit: page.limit ?? PATTERN_POLICY_PAGE_DEFAULT, cursor: page.cursor },
        { credentialId: IsNull() },
      ),
    );
  }

  async get(id: string): Promise<RotationPolicy> {
    const policy = await this.transactions.read((manager) =>
      manager.findOneBy(RotationPolicy, { id, credentialId: IsNull() }),
    );
    if (!policy) throw new RotationPolicyNotFoundError();
    return policy;
  }

  /**
   * Creates or replaces the policy of `pathPattern`. Two first PUTs of one pattern at once: the
   * loser's insert breaks the unique index, and running it again finds the winner's row.
   */
  async put(
    input: PolicyInput & { pathPattern: string },
    principal: Principal,
    context?: AuditRequestContext,
  ): Promise<PatternPolicyWritten> {
    const attempt = () =>
      this.transactions.run((manager) => this.upsert(manager, input, principal, context));
    try {
      return await attempt();
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      return attempt();
    }
  }

  async remove(id: string, context?: AuditRequestContext): Promise<void> {
    await this.transactions.run(async (manager) => {
      const policy = await manager.findOne(RotationPolicy, {
        where: { id, credentialId: IsNull() },
        lock: rowLock(manager),
      });
      if (!policy) throw new RotationPolicyNotFoundError();
      const governing = await this.policies.patternPolicies(manager);
      await manager.delete(RotationPolicy, { id });
      const after = governing.filter((other) => other.id !== id);
      const now = await databaseNow(manager);
      const rescheduled = await this.rescheduler.reschedule(
        manager,
        { policy, governing, after },
        now,
      );
      await this.audit.record(
        {
          action: 'rotation.pattern_policy.delete',
          outcome: 'success',
          httpStatus: 204,
          resourceType: 'rotation_policy',
          resourceId: id,
          details: { pathPattern: policy.pathPattern, rescheduled },
          context,
        },
        manager,
      );
    });
  }

  private async upsert(
    manager: EntityManager,
    input: PolicyInput & { pathPattern: string },
    principal: Principal,
    context?: AuditRequestContext,
  ): Promise<PatternPolicyWritten> {
    const now = await databaseNow(manager);
    const fields = this.validator.check(input, { type: null }, now);
    const warnings = await this.validator.review(fields, { credential: null, principal }, manager);
    const existing = await manager.findOne(RotationPolicy, {
      where: { pathPattern: input.pathPattern },
      lock: rowLock(manager),
    });
    const id = existing?.id ?? randomUUID();
    if (existing) await manager.update(RotationPolicy, { id }, policyColumns(fields));
    else {
      await manager.insert(RotationPolicy, {
        id,
        credentialId: null,
        pathPattern: input.pathPattern,
        ...policyColumns(fields),
        createdBy: principal.id,
      });
    }
    const governing = await this.policies.patternPolicies(manager);
    const rescheduled = await this.rescheduler.reschedule(
      manager,
      { policy: { id, pathPattern: input.pathPattern }, governing, after: governing },
      now,
    );
    await this.audit.record(
      {
        action: 'rotation.pattern_policy.update',
        outcome: 'success',
        httpStatus: 200,
        resourceType: 'rotation_policy',
        resourceId: id,
        details: {
          pathPattern: input.pathPattern,
          created: !existing,
          ...policyAuditDetails(fields),
          rescheduled,
        },
        context,
      },
      manager,
    );
    return { policy: await manager.findOneByOrFail(RotationPolicy, { id }), warnings };
  }
}
