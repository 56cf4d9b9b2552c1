import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { AuditRequestContext } from '../../audit/audit-context';
import { AuditWriter } from '../../audit/audit-writer';
import type { Principal } from '../../common/auth/principal';
import { CredentialAccess } from '../../credentials/credential-access';
import type { Credential } from '../../credentials/entities/credential.entity';
import { databaseNow } from '../../database/dialect';
import { TransactionRunner } from '../../database/transaction-runner';
import { RotationPolicy } from '../entities/rotation-policy.entity';
import type { EffectivePolicy } from './effective-policy';
import { PolicyInput, policyColumns } from './policy-input';
import { policyAuditDetails } from './policy-audit';
import { NoOwnRotationPolicyError, NoRotationPolicyError } from './rotation-policy.errors';
import { RotationPolicyService } from './rotation-policy.service';
import { RotationPolicyValidator } from './rotation-policy-validator';

/** A credential and the policy that applies to it, for the response. */
export interface CredentialPolicyView {
  credential: Credential;
  policy: EffectivePolicy;
  /** What a PUT changed on its own or wants known (a grace the rotator forced, say). */
  warnings?: string[];
}

/**
 * A credential's own rotation policy over HTTP: `rotate` on its path to change it, `read` to see
 * what applies. A change reschedules the credential from the database clock, in the same
 * transaction, and never starts a rotation.
 */
@Injectable()
export class CredentialPolicyService {
  constructor(
    private readonly transactions: TransactionRunner,
    private readonly access: CredentialAccess,
    private readonly audit: AuditWriter,
    private readonly policies: RotationPolicyService,
    private readonly validator: RotationPolicyValidator,
  ) {}

  async get(id: string, principal: Principal): Promise<CredentialPolicyView> {
    return this.transactions.read(async (manager) => {
      const credential = await this.access.byId(manager, principal, id, 'read');
      const policy = await this.policies.effective(manager, credential);
      if (!policy) throw new NoRotationPolicyError();
      return { credential, policy };
    });
  }

  /**
   * Creates or replaces the credential's own policy. The locked credential row serializes
   * concurrent PUTs, so the first inserts and the others update: one row per credential.
   * READ COMMITTED: the policy read after that lock sees the policy a PUT just before committed,
   * and takes no gap lock where there is none yet (PUTs of different credentials holding such
   * locks deadlocked on each other's inserts).
   */
  async put(
    id: string,
    input: PolicyInput,
    principal: Principal,
    context?: AuditRequestContext,
  ): Promise<CredentialPolicyView> {
    return this.transactions.run(async (manager) => {
      const credential = await this.access.byId(manager, principal, id, 'rotate', { lock: true });
      const now = await databaseNow(manager);
      const fields = this.validator.check(input, { type: credential.type }, now);
      const warnings = await this.validator.review(fields, { credential, principal }, manager);
      const existing = await this.ownPolicy(manager, id);
      const policyId = existing?.id ?? randomUUID();
      if (existing) await manager.update(RotationPolicy, { id: policyId }, policyColumns(fields));
      else {
        await manager.insert(RotationPolicy, {
          id: policyId,
          credentialId: id,
          pathPattern: null,
          ...policyColumns(fields),
          createdBy: principal.id,
        });
      }
      await this.policies.applyPolicyChange(manager, credential, now);
      const policy = (await this.policies.effective(manager, credential))!;
      await this.audit.record(
        {
          action: 'rotation.policy.update',
          outcome: 'success',
          httpStatus: 200,
          resourceType: 'credential',
          resourceId: id,
          details: {
            path: credential.path,
            policyId,
            created: !existing,
            ...policyAuditDetails(fields),
            nextRotationAt: credential.nextRotationAt,
            rotationStatus: credential.rotationStatus,
          },
          context,
        },
        manager,
      );
      return { credential, policy, warnings };
    }, 'READ COMMITTED');
  }

  /** Deletes the credential's own policy; a path-pattern policy for its path then applies. */
  async remove(id: string, principal: Principal, context?: AuditRequestContext): Promise<void> {
    await this.transactions.run(async (manager) => {
      const credential = await this.access.byId(manager, principal, id, 'rotate', { lock: true });
      const existing = await this.ownPolicy(manager, id);
      if (!existing) throw new NoOwnRotationPolicyError();
      await manager.delete(RotationPolicy, { id: existing.id });
      await this.policies.applyPolicyChange(manager, credential, await databaseNow(manager));
      const fallback = await this.policies.effective(manager, credential);
      await this.audit.record(
        {
          action: 'rotation.policy.delete',
          outcome: 'success',
          httpStatus: 204,
          resourceType: 'credential',
          resourceId: id,
          details: {
            path: credential.path,
            policyId: existing.id,
            fallbackPolicyId: fallback?.policyId ?? null,
            nextRotationAt: credential.nextRotationAt,
            rotationStatus: credential.rotationStatus,
          },
          context,
        },
        manager,
      );
    }, 'READ COMMITTED');
  }

  /** The credential's own policy; the caller holds the credential's row lock. */
  private ownPolicy(manager: EntityManager, credentialId: string): Promise<RotationPolicy | null> {
    return manager.findOne(RotationPolicy, { where: { credentialId } });
  }
}
