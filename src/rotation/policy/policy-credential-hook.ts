import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import type { CredentialChangeHook } from '../../credentials/credential-change-hooks';
import type { Credential } from '../../credentials/entities/credential.entity';
import { databaseNow } from '../../database/dialect';
import { RotationPolicy } from '../entities/rotation-policy.entity';
import { mostSpecificPattern } from './policy-resolution';
import { RotationPolicyService } from './rotation-policy.service';

/**
 * Schedules a credential created or moved under a path-pattern policy, as a pattern policy put
 * at that moment would. A move that leaves the credential under the same policy (its own, or the
 * same pattern's) keeps its schedule.
 */
@Injectable()
export class PolicyCredentialHook implements CredentialChangeHook {
  constructor(private readonly policies: RotationPolicyService) {}

  async afterCreate(manager: EntityManager, credential: Credential): Promise<void> {
    // New: no policy of its own yet, so only a pattern can govern it.
    const patterns = await this.policies.patternPolicies(manager);
    if (!this.policies.effectiveAmong(null, patterns, credential)) return;
    await this.policies.applyPolicyChange(manager, credential, await databaseNow(manager));
  }

  async afterMove(
    manager: EntityManager,
    credential: Credential,
    previousPath: string,
  ): Promise<void> {
    if (await manager.existsBy(RotationPolicy, { credentialId: credential.id })) return;
    const patterns = await this.policies.patternPolicies(manager);
    const before = mostSpecificPattern(patterns, previousPath);
    const after = mostSpecificPattern(patterns, credential.path);
    if (before?.id === after?.id) return;
    await this.policies.applyPolicyChange(manager, credential, await databaseNow(manager));
  }
}
