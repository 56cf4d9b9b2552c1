import { EntityManager } from 'typeorm';
import { strictFn } from '../../../test/helpers/controller-app';
import { Credential } from '../../credentials/entities/credential.entity';
import { RotationPolicy } from '../entities/rotation-policy.entity';
import { PolicyCredentialHook } from './policy-credential-hook';
import type { RotationPolicyService } from './rotation-policy.service';

const NOW = new Date('2026-11-30T12:00:00.000Z');

function pattern(id: string, pathPattern: string): RotationPolicy {
  return Object.assign(new RotationPolicy(), { id, pathPattern, credentialId: null });
}

function credential(path: string): Credential {
  return Object.assign(new Credential(), { id: 'c-1', path, type: 'password' });
}

describe('PolicyCredentialHook', () => {
  const policies = {
    patternPolicies: strictFn('RotationPolicyService.patternPolicies'),
    effectiveAmong: strictFn('RotationPolicyService.effectiveAmong'),
    applyPolicyChange: strictFn('RotationPolicyService.applyPolicyChange'),
  };
  const existsBy = strictFn('EntityManager.existsBy');
  const manager = {
    existsBy,
    connection: { options: { type: 'mysql' } },
    query: () => Promise.resolve([{ now: NOW }]),
  } as unknown as EntityManager;
  const sut = new PolicyCredentialHook(policies as unknown as RotationPolicyService);
  const PATTERNS = [pattern('p-1', 'acme/**'), pattern('p-2', 'acme/prod/*')];

  beforeEach(() => jest.clearAllMocks());

  it('should schedule a new credential a pattern policy governs, from the database clock', async () => {
    policies.patternPolicies.mockResolvedValueOnce(PATTERNS);
    policies.effectiveAmong.mockReturnValueOnce({ policyId: 'p-2' });
    policies.applyPolicyChange.mockResolvedValueOnce(undefined);
    const created = credential('acme/prod/db');

    await sut.afterCreate(manager, created);

    expect(policies.effectiveAmong).toHaveBeenCalledWith(null, PATTERNS, created);
    expect(policies.applyPolicyChange).toHaveBeenCalledWith(manager, created, NOW);
  });

  it('should write nothing for a new credential no policy governs', async () => {
    policies.patternPolicies.mockResolvedValueOnce(PATTERNS);
    policies.effectiveAmong.mockReturnValueOnce(null);

    await sut.afterCreate(manager, credential('other/db'));

    expect(policies.applyPolicyChange).not.toHaveBeenCalled();
  });

  it('should reschedule a credential moved under another pattern', async () => {
    existsBy.mockResolvedValueOnce(false);
    policies.patternPolicies.mockResolvedValueOnce(PATTERNS);
    policies.applyPolicyChange.mockResolvedValueOnce(undefined);
    const moved = credential('acme/prod/db');

    await sut.afterMove(manager, moved, 'acme/dev/db');

    expect(existsBy).toHaveBeenCalledWith(RotationPolicy, { credentialId: 'c-1' });
    expect(policies.applyPolicyChange).toHaveBeenCalledWith(manager, moved, NOW);
  });

  it('should reschedule a credential moved out from under every pattern', async () => {
    existsBy.mockResolvedValueOnce(false);
    policies.patternPolicies.mockResolvedValueOnce(PATTERNS);
    policies.applyPolicyChange.mockResolvedValueOnce(undefined);

    await sut.afterMove(manager, credential('other/db'), 'acme/prod/db');

    expect(policies.applyPolicyChange).toHaveBeenCalledTimes(1);
  });

  it('should keep the schedule of a credential moved under the same pattern', async () => {
    existsBy.mockResolvedValueOnce(false);
    policies.patternPolicies.mockResolvedValueOnce(PATTERNS);

    await sut.afterMove(manager, credential('acme/prod/db2'), 'acme/prod/db');

    expect(policies.applyPolicyChange).not.toHaveBeenCalled();
  });

  it('should keep the schedule of a credential with a policy of its own', async () => {
    existsBy.mockResolvedValueOnce(true);

    await sut.afterMove(manager, credential('other/db'), 'acme/prod/db');

    expect(policies.patternPolicies).not.toHaveBeenCalled();
    expect(policies.applyPolicyChange).not.toHaveBeenCalled();
  });
});
