import type { EntityManager } from 'typeorm';
import { strictFn } from '../../test/helpers/controller-app';
import type { AccessPolicy } from '../auth/grants/access-policy';
import type { Capability } from '../common/auth/access-vocabulary';
import type { Principal } from '../common/auth/principal';
import { CredentialAccess } from './credential-access';
import { CapabilityRequiredError, CredentialNotFoundError } from './credential.errors';
import type { Credential } from './entities/credential.entity';

const SERVICE: Principal = { type: 'service', id: 'svc-1', name: 'billing-api' };
const manager = {} as EntityManager;

function credential(status: Credential['status'] = 'active'): Credential {
  return { id: 'cred-1', path: 'acme/prod/db', status } as Credential;
}

describe('CredentialAccess', () => {
  const policy = { capabilitiesFor: strictFn('AccessPolicy.capabilitiesFor') };
  const sut = new CredentialAccess(policy as unknown as AccessPolicy);
  const granting = (...capabilities: Capability[]) =>
    policy.capabilitiesFor.mockResolvedValueOnce(new Set(capabilities));
  const refusal = (work: Promise<unknown>) =>
    work.then(
      () => undefined,
      (error: unknown) => error,
    );

  beforeEach(() => policy.capabilitiesFor.mockReset());

  it('should answer a missing credential with a plain not-found, looking up no grants', async () => {
    const error = await refusal(sut.authorize(manager, SERVICE, null, 'reveal'));
    expect(error).toBeInstanceOf(CredentialNotFoundError);
    expect((error as CredentialNotFoundError).auditHint).toBeUndefined();
    expect(policy.capabilitiesFor).not.toHaveBeenCalled();
  });

  it('should answer no read access with the same not-found, marked denied for the audit log without the id', async () => {
    granting();
    const error = await refusal(sut.authorize(manager, SERVICE, credential(), 'reveal'));
    expect(error).toBeInstanceOf(CredentialNotFoundError);
    expect((error as Error).message).toBe(new CredentialNotFoundError().message);
    expect((error as CredentialNotFoundError).auditHint).toEqual({ outcome: 'denied' });
  });

  it('should mark a deleted credential as denied too when the caller may not read its path', async () => {
    granting();
    const error = await refusal(sut.authorize(manager, SERVICE, credential('deleted'), 'read'));
    expect((error as CredentialNotFoundError).auditHint).toEqual({ outcome: 'denied' });
  });

  it('should name the credential to the audit log when the caller may read it but not use it', async () => {
    granting('read');
    const error = await refusal(sut.authorize(manager, SERVICE, credential(), 'reveal'));
    expect(error).toBeInstanceOf(CapabilityRequiredError);
    expect((error as CapabilityRequiredError).auditHint).toEqual({
      details: { credentialId: 'cred-1' },
    });
  });

  it('should name a deleted credential the caller may read', async () => {
    granting('read');
    const error = await refusal(sut.authorize(manager, SERVICE, credential('deleted'), 'read'));
    expect(error).toBeInstanceOf(CredentialNotFoundError);
    expect((error as CredentialNotFoundError).auditHint).toEqual({
      details: { credentialId: 'cred-1' },
    });
  });

  it('should return a deleted credential where deleted ones are asked for', async () => {
    granting('read', 'delete');
    const found = credential('deleted');
    await expect(
      sut.authorize(manager, SERVICE, found, 'delete', { includeDeleted: true }),
    ).resolves.toBe(found);
  });
});
