import { EntityManager, IsNull } from 'typeorm';
import { strictFn } from '../../../test/helpers/controller-app';
import { loadRotationConfig } from '../../config/rotation.config';
import { Credential } from '../../credentials/entities/credential.entity';
import { RotationPolicy } from '../entities/rotation-policy.entity';
import { RotatorRegistry } from '../rotators/rotator-registry';
import { literalPrefix, mostSpecificPattern, toEffective } from './policy-resolution';
import { planAfterPolicyChange, planSchedule } from './rotation-schedule';
import { RotationPolicyService } from './rotation-policy.service';

const NOW = new Date('2026-11-30T12:00:00.000Z');
const DEFAULTS = loadRotationConfig({}).defaults;

function policy(overrides: Partial<RotationPolicy>): RotationPolicy {
  return Object.assign(new RotationPolicy(), {
    id: '00000000-0000-4000-8000-000000000001',
    credentialId: null,
    pathPattern: null,
    enabled: true,
    rotateEvery: null,
    schedule: null,
    window: null,
    gracePeriod: null,
    offset: null,
    rotator: { kind: 'generated' },
    generator: null,
    endGraceOnFullAdoption: false,
    createdBy: null,
    createdAt: NOW,
    updatedAt: NOW,
    ...overrides,
  });
}

function pattern(id: string, pathPattern: string, overrides: Partial<RotationPolicy> = {}) {
  return policy({ id, pathPattern, ...overrides });
}

function credential(overrides: Partial<Credential> = {}): Credential {
  return Object.assign(new Credential(), {
    id: 'c0000000-0000-4000-8000-000000000001',
    path: 'acme/prod/db/root',
    type: 'password',
    rotationStatus: 'none',
    nextRotationAt: null,
    rowVersion: 3,
    ...overrides,
  });
}

describe('path-pattern policy specificity', () => {
  it.each([
    ['acme/prod/db', 'acme/prod/db'],
    ['acme/prod/*', 'acme/prod/'],
    ['acme/**', 'acme/'],
    ['*/prod/db', ''],
    ['acme/*/db', 'acme/'],
  ])('should read the literal prefix of %s as %j', (text, prefix) => {
    expect(literalPrefix(text)).toBe(prefix);
  });

  it('should pick the matching pattern with the longest literal prefix', () => {
    const policies = [
      pattern('id-1', 'acme/**'),
      pattern('id-2', 'acme/prod/**'),
      pattern('id-3', 'acme/prod/db/*'),
      pattern('id-4', 'acme/staging/**'),
    ];

    expect(mostSpecificPattern(policies, 'acme/prod/db/root')?.id).toBe('id-3');
    expect(mostSpecificPattern(policies, 'acme/prod/web/key')?.id).toBe('id-2');
    expect(mostSpecificPattern(policies, 'acme/dev/key')?.id).toBe('id-1');
    expect(mostSpecificPattern(policies, 'other/key')).toBeUndefined();
  });

  it('should prefer an exact path to any wildcard under it', () => {
    const policies = [pattern('id-1', 'acme/prod/*'), pattern('id-2', 'acme/prod/db')];

    expect(mostSpecificPattern(policies, 'acme/prod/db')?.id).toBe('id-2');
  });

  it('should break a tie by the smaller id, whatever the order', () => {
    const a = pattern('aaaa', 'acme/*/db');
    const b = pattern('bbbb', 'acme/**');

    expect(mostSpecificPattern([a, b], 'acme/prod/db')?.id).toBe('aaaa');
    expect(mostSpecificPattern([b, a], 'acme/prod/db')?.id).toBe('aaaa');
  });

  it('should skip credential policies and patterns that do not match', () => {
    const own = policy({ id: 'own', credentialId: 'c-1' });

    expect(mostSpecificPattern([own, pattern('id-1', 'acme/*')], 'acme/prod/db')).toBeUndefined();
  });
});

describe('toEffective', () => {
  it("should fill in the type's default interval and grace", () => {
    expect(toEffective(pattern('id-1', 'acme/**'), 'password', DEFAULTS)).toEqual({
      policyId: 'id-1',
      source: 'pattern',
      pathPattern: 'acme/**',
      enabled: true,
      rotateEvery: 'P30D',
      schedule: null,
      window: null,
      offset: null,
      gracePeriod: 'PT48H',
      graceSeconds: 172_800,
      rotator: { kind: 'generated' },
      generator: null,
      endGraceOnFullAdoption: false,
    });
    expect(toEffective(pattern('id-1', 'acme/**'), 'api_key', DEFAULTS)).toMatchObject({
      rotateEvery: 'P90D',
      gracePeriod: 'PT24H',
      graceSeconds: 86_400,
    });
  });

  it("should carry a pattern policy's endGraceOnFullAdoption to the credentials under it", () => {
    const governing = pattern('id-1', 'acme/**', { endGraceOnFullAdoption: true });

    expect(toEffective(governing, 'password', DEFAULTS).endGraceOnFullAdoption).toBe(true);
  });

  it('should keep what the policy gives, and no interval beside a schedule', () => {
    const own = policy({
      credentialId: 'c-1',
      schedule: '0 3 * * *',
      gracePeriod: 'PT2H',
      offset: 'PT5M',
      window: { start: '02:00', duration: 'PT2H' },
      generator: { format: 'hex', length: 64 },
    });

    expect(toEffective(own, 'password', DEFAULTS)).toMatchObject({
      source: 'credential',
      pathPattern: null,
      rotateEvery: null,
      schedule: '0 3 * * *',
      gracePeriod: 'PT2H',
      graceSeconds: 7200,
      offset: 'PT5M',
      window: { start: '02:00', duration: 'PT2H' },
      generator: { format: 'hex', length: 64 },
    });
  });
});

describe('RotationPolicyService.effective', () => {
  const find = strictFn('EntityManager.find');
  const manager = { find } as unknown as EntityManager;
  const sut = new RotationPolicyService(loadRotationConfig({}), new RotatorRegistry());

  beforeEach(() => jest.clearAllMocks());

  it("should answer the credential's own policy over any pattern, in one statement", async () => {
    find.mockResolvedValueOnce([
      pattern('id-1', 'acme/**'),
      policy({ id: 'own', credentialId: credential().id }),
    ]);

    await expect(sut.effective(manager, credential())).resolves.toMatchObject({
      policyId: 'own',
      source: 'credential',
    });
    expect(find).toHaveBeenCalledTimes(1);
    expect(find).toHaveBeenCalledWith(RotationPolicy, {
      where: [{ credentialId: credential().id }, { credentialId: IsNull() }],
    });
  });

  it('should answer the most specific pattern policy when it has none of its own', async () => {
    find.mockResolvedValueOnce([pattern('id-1', 'acme/**'), pattern('id-2', 'acme/prod/**')]);

    await expect(sut.effective(manager, credential())).resolves.toMatchObject({
      policyId: 'id-2',
      source: 'pattern',
      pathPattern: 'acme/prod/**',
    });
  });

  it('should answer null when no pattern matches', async () => {
    find.mockResolvedValueOnce([pattern('id-1', 'other/**')]);

    await expect(sut.effective(manager, credential())).resolves.toBeNull();
  });

  it("should answer null when the most specific pattern's rotator cannot rotate the type", async () => {
    find.mockResolvedValueOnce([
      pattern('id-1', 'acme/**', { rotator: { kind: 'manual' } }),
      pattern('id-2', 'acme/prod/**', { rotator: { kind: 'generated' } }),
    ]);

    await expect(sut.effective(manager, credential({ type: 'ssh_key' }))).resolves.toBeNull();
  });

  it('should answer a disabled policy as it is', async () => {
    find.mockResolvedValueOnce([pattern('id-1', 'acme/**', { enabled: false })]);

    await expect(sut.effective(manager, credential())).resolves.toMatchObject({ enabled: false });
  });
});

describe('schedules under a policy', () => {
  const effective = toEffective(
    pattern('id-1', 'acme/**', { rotateEvery: 'P1D' }),
    'api_key',
    DEFAULTS,
  );

  it('should schedule at the next time after `from`, or at the time given', () => {
    expect(planSchedule(effective, NOW)).toEqual({
      nextRotationAt: new Date('2026-12-01T12:00:00Z'),
      rotationStatus: 'scheduled',
    });
    const at = new Date('2026-11-30T13:00:00Z');
    expect(planSchedule(effective, NOW, 'failed', at)).toEqual({
      nextRotationAt: at,
      rotationStatus: 'failed',
    });
  });

  it('should schedule nothing without a policy or under a disabled one', () => {
    expect(planSchedule(null, NOW)).toEqual({ nextRotationAt: null, rotationStatus: 'none' });
    expect(planSchedule({ ...effective, enabled: false }, NOW)).toEqual({
      nextRotationAt: null,
      rotationStatus: 'disabled',
    });
  });

  it('should leave a credential in a run alone after a policy change', () => {
    expect(
      planAfterPolicyChange(effective, credential({ rotationStatus: 'rotating' }), NOW),
    ).toBeNull();
    expect(
      planAfterPolicyChange(effective, credential({ rotationStatus: 'awaiting_value' }), NOW),
    ).toBeNull();
  });

  it('should never make a credential due at once after a policy change', () => {
    const overdue = credential({
      rotationStatus: 'scheduled',
      nextRotationAt: new Date('2026-01-01T00:00:00Z'),
    });

    expect(planAfterPolicyChange(effective, overdue, NOW)).toEqual({
      nextRotationAt: new Date('2026-12-01T12:00:00Z'),
      rotationStatus: 'scheduled',
    });
  });

  it('should keep a failed credential failed, with its retry if that comes sooner', () => {
    const retry = new Date('2026-11-30T13:00:00Z');
    const failed = credential({ rotationStatus: 'failed', nextRotationAt: retry });

    expect(planAfterPolicyChange(effective, failed, NOW)).toEqual({
      nextRotationAt: retry,
      rotationStatus: 'failed',
    });
    expect(
      planAfterPolicyChange(effective, { ...failed, nextRotationAt: new Date('2027-01-01') }, NOW),
    ).toEqual({ nextRotationAt: new Date('2026-12-01T12:00:00Z'), rotationStatus: 'failed' });
    expect(planAfterPolicyChange(null, failed, NOW)).toEqual({
      nextRotationAt: null,
      rotationStatus: 'none',
    });
  });
});
