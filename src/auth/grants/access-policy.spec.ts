import { DataSource, EntityManager } from 'typeorm';
import { strictFn } from '../../../test/helpers/controller-app';
import type { Principal } from '../../common/auth/principal';
import type { Role } from '../../common/auth/access-vocabulary';
import { AccessGrant } from './access-grant.entity';
import { CAPABILITIES, Capability } from '../../common/auth/access-vocabulary';
import {
  AccessPolicy,
  orderedCapabilities,
  parseCapabilities,
  PrincipalAccess,
  roleCapabilities,
  roleExclusions,
} from './access-policy';

function user(role: Role, id = '0b9f6a3e-4f0c-4d59-9a3e-1f2b3c4d5e6f'): Principal {
  return {
    type: 'user',
    id,
    email: `${role}@example.com`,
    role,
    mustChangePassword: false,
    mfaEnabled: false,
  };
}

const SERVICE: Principal = {
  type: 'service',
  id: '7d4c2b1a-9e8f-4a6b-8c5d-3e2f1a0b9c8d',
  name: 'billing-api',
};

function grant(
  pathPattern: string,
  capabilities: string,
): Pick<AccessGrant, 'pathPattern' | 'capabilities'> {
  return { pathPattern, capabilities };
}

describe('roleCapabilities', () => {
  it.each<[Role, Capability[]]>([
    ['admin', ['read', 'reveal', 'write', 'rotate', 'delete']],
    ['operator', ['read', 'reveal', 'write', 'rotate']],
    ['auditor', ['read']],
    ['viewer', ['read']],
  ])('should give %s exactly %j', (role, expected) => {
    expect(orderedCapabilities(roleCapabilities(role))).toEqual(expected);
  });

  it('should give an unknown role nothing', () => {
    expect(roleCapabilities('root' as Role).size).toBe(0);
    expect(roleCapabilities('__proto__' as Role).size).toBe(0);
  });

  it('should hand out a fresh set, so a caller cannot widen a role', () => {
    roleCapabilities('viewer').add('delete');
    expect(roleCapabilities('viewer').has('delete')).toBe(false);
  });
});

describe('parseCapabilities', () => {
  it('should read a comma-separated list', () => {
    expect(parseCapabilities('read,reveal')).toEqual(new Set(['read', 'reveal']));
  });

  it('should ignore blanks, spaces and unknown or differently cased names', () => {
    expect(parseCapabilities(' read ,,Reveal,admin,*,delete')).toEqual(new Set(['read', 'delete']));
    expect(parseCapabilities('').size).toBe(0);
  });
});

describe('orderedCapabilities', () => {
  it('should put capabilities in the canonical order without duplicates', () => {
    expect(orderedCapabilities(['delete', 'read', 'delete', 'rotate'])).toEqual([
      'read',
      'rotate',
      'delete',
    ]);
  });
});

describe('PrincipalAccess', () => {
  it('should add the capabilities of every matching grant to the base', () => {
    const sut = new PrincipalAccess(new Set<Capability>(['read']), [
      grant('acme/**', 'reveal'),
      grant('acme/prod/*', 'rotate,write'),
      grant('other/*', 'delete'),
    ]);

    expect(orderedCapabilities(sut.capabilitiesFor('acme/prod/db'))).toEqual([
      'read',
      'reveal',
      'write',
      'rotate',
    ]);
    expect(orderedCapabilities(sut.capabilitiesFor('acme/dev/db'))).toEqual(['read', 'reveal']);
    expect(orderedCapabilities(sut.capabilitiesFor('elsewhere/db'))).toEqual(['read']);
  });

  it('should let a stored grant with an invalid pattern match nothing', () => {
    const sut = new PrincipalAccess(new Set(), [
      grant('ACME/**', 'reveal'),
      grant('a/**/b', 'read'),
    ]);

    expect(sut.capabilitiesFor('acme/x').size).toBe(0);
    expect(sut.can('read', 'a/x/b')).toBe(false);
  });

  it('should tell from grants alone whether a folder may hold something the principal may read', () => {
    const sut = new PrincipalAccess(new Set(), [
      grant('acme/prod/*', 'read'),
      grant('other/**', 'write'),
    ]);

    expect(sut.mayUnder('read', '')).toBe(true);
    expect(sut.mayUnder('read', 'acme/')).toBe(true);
    expect(sut.mayUnder('read', 'acme/prod/')).toBe(true);
    expect(sut.mayUnder('read', 'acme/stage/')).toBe(false);
    expect(sut.mayUnder('read', 'other/')).toBe(false);
    expect(sut.mayUnder('write', 'other/x/')).toBe(true);
  });

  it('should let a role that reads everything read under every folder, and never what it excludes', () => {
    const viewer = new PrincipalAccess(roleCapabilities('viewer'), []);
    const auditor = new PrincipalAccess(
      roleCapabilities('auditor'),
      [grant('acme/**', 'reveal')],
      roleExclusions('auditor'),
    );

    expect(viewer.mayUnder('read', 'anything/')).toBe(true);
    expect(auditor.mayUnder('reveal', 'acme/')).toBe(false);
  });
});

describe('AccessPolicy', () => {
  let find: jest.Mock;
  let getRepository: jest.Mock;
  let sut: AccessPolicy;

  beforeEach(() => {
    find = strictFn('Repository.find');
    getRepository = jest.fn((entity: unknown) => {
      if (entity !== AccessGrant) throw new Error('unexpected repository');
      return { find };
    });
    sut = new AccessPolicy({ getRepository } as unknown as DataSource);
  });

  function arrangeGrants(...grants: Pick<AccessGrant, 'pathPattern' | 'capabilities'>[]): void {
    find.mockResolvedValue(grants);
  }

  describe('admin', () => {
    it('should allow every capability on every path without reading grants', async () => {
      for (const capability of CAPABILITIES) {
        await expect(sut.can(user('admin'), capability, 'acme/prod/db')).resolves.toBe(true);
      }
      await expect(sut.capabilitiesFor(user('admin'), 'any/where')).resolves.toEqual(
        new Set(CAPABILITIES),
      );
      expect(getRepository).not.toHaveBeenCalled();
    });
  });

  describe('operator', () => {
    it('should allow read, reveal, write and rotate everywhere without reading grants', async () => {
      for (const capability of ['read', 'reveal', 'write', 'rotate'] as const) {
        await expect(sut.can(user('operator'), capability, 'acme/prod/db')).resolves.toBe(true);
      }
      expect(getRepository).not.toHaveBeenCalled();
    });

    it('should refuse delete without a grant', async () => {
      arrangeGrants();

      await expect(sut.can(user('operator'), 'delete', 'acme/prod/db')).resolves.toBe(false);
    });

    it('should allow delete where a grant gives it, and only there', async () => {
      arrangeGrants(grant('acme/dev/**', 'delete'));

      await expect(sut.can(user('operator'), 'delete', 'acme/dev/db')).resolves.toBe(true);
      await expect(sut.can(user('operator'), 'delete', 'acme/prod/db')).resolves.toBe(false);
    });
  });

  describe.each<Role>(['auditor', 'viewer'])('%s', (role) => {
    it('should allow read on every path and nothing else without a grant', async () => {
      arrangeGrants();

      await expect(sut.can(user(role), 'read', 'acme/prod/db')).resolves.toBe(true);
      await expect(sut.capabilitiesFor(user(role), 'acme/prod/db')).resolves.toEqual(
        new Set(['read']),
      );
      for (const capability of ['reveal', 'write', 'rotate', 'delete'] as const) {
        await expect(sut.can(user(role), capability, 'acme/prod/db')).resolves.toBe(false);
      }
    });

    it('should add the capabilities of matching grants, never reveal for an auditor', async () => {
      arrangeGrants(grant('acme/*/db', 'reveal'), grant('acme/prod/*', 'rotate'));
      // Auditors never see plaintext (DESIGN.md, "Roles"), whatever a grant says.
      const reveal = role === 'auditor' ? [] : ['reveal'];

      await expect(sut.capabilitiesFor(user(role), 'acme/prod/db')).resolves.toEqual(
        new Set(['read', ...reveal, 'rotate']),
      );
      await expect(sut.capabilitiesFor(user(role), 'acme/stage/db')).resolves.toEqual(
        new Set(['read', ...reveal]),
      );
      await expect(sut.can(user(role), 'reveal', 'acme/stage/cache')).resolves.toBe(false);
    });
  });

  it("should read only the user's own grants", async () => {
    arrangeGrants();
    const viewer = user('viewer', '11111111-2222-4333-8444-555555555555');

    await sut.can(viewer, 'reveal', 'acme/prod/db');

    expect(find).toHaveBeenCalledTimes(1);
    expect(find).toHaveBeenCalledWith(
      expect.objectContaining({
        where: { principalType: 'user', principalId: '11111111-2222-4333-8444-555555555555' },
      }),
    );
  });

  describe('service account', () => {
    it('should have nothing without grants, not even read', async () => {
      arrangeGrants();

      for (const capability of CAPABILITIES) {
        await expect(sut.can(SERVICE, capability, 'acme/prod/db')).resolves.toBe(false);
      }
      await expect(sut.capabilitiesFor(SERVICE, 'acme/prod/db')).resolves.toEqual(new Set());
    });

    it('should have exactly the capabilities of its matching grants', async () => {
      arrangeGrants(grant('acme/prod/*', 'read,reveal'), grant('acme/**', 'read'));

      await expect(sut.capabilitiesFor(SERVICE, 'acme/prod/db')).resolves.toEqual(
        new Set(['read', 'reveal']),
      );
      await expect(sut.capabilitiesFor(SERVICE, 'acme/prod/db/replica')).resolves.toEqual(
        new Set(['read']),
      );
      await expect(sut.can(SERVICE, 'reveal', 'acme/prod')).resolves.toBe(false);
      await expect(sut.can(SERVICE, 'read', 'acmeprod/db')).resolves.toBe(false);
    });

    it('should read the grants of the service account, not of a user with the same id', async () => {
      arrangeGrants();

      await sut.can(SERVICE, 'read', 'acme/prod/db');

      expect(find).toHaveBeenCalledWith(
        expect.objectContaining({
          where: { principalType: 'service_account', principalId: SERVICE.id },
        }),
      );
    });

    it('should ignore unknown capabilities in a stored grant', async () => {
      arrangeGrants(grant('acme/**', 'read,admin,all'));

      await expect(sut.capabilitiesFor(SERVICE, 'acme/x')).resolves.toEqual(new Set(['read']));
    });

    it('should match nothing for an invalid path', async () => {
      arrangeGrants(grant('**', 'read,reveal'));

      await expect(sut.can(SERVICE, 'read', 'acme/x')).resolves.toBe(true);
      await expect(sut.can(SERVICE, 'read', 'Acme/x')).resolves.toBe(false);
      await expect(sut.can(SERVICE, 'read', 'acme/../x')).resolves.toBe(false);
      await expect(sut.can(SERVICE, 'read', '')).resolves.toBe(false);
    });
  });

  it('should fail closed when the grants cannot be read', async () => {
    find.mockRejectedValueOnce(new Error('connection lost'));

    await expect(sut.can(SERVICE, 'read', 'acme/x')).rejects.toThrow('connection lost');
  });

  it("should read inside the caller's transaction when given its manager", async () => {
    const managerFind = jest.fn().mockResolvedValue([grant('acme/**', 'reveal')]);
    const manager = { getRepository: jest.fn(() => ({ find: managerFind })) };

    await expect(
      sut.can(SERVICE, 'reveal', 'acme/x', manager as unknown as EntityManager),
    ).resolves.toBe(true);

    expect(manager.getRepository).toHaveBeenCalledWith(AccessGrant);
    expect(getRepository).not.toHaveBeenCalled();
  });

  it('should check many paths with one query through forPrincipal', async () => {
    arrangeGrants(grant('acme/prod/*', 'reveal'));

    const access = await sut.forPrincipal(user('viewer'));

    expect(
      ['acme/prod/a', 'acme/prod/b', 'acme/dev/a'].map((p) => access.can('reveal', p)),
    ).toEqual([true, true, false]);
    expect(find).toHaveBeenCalledTimes(1);
  });
});

describe('AccessPolicy role ceilings', () => {
  it('should never let a grant give an auditor reveal', async () => {
    const dataSource = {
      getRepository: () => ({
        find: () => Promise.resolve([{ pathPattern: 'acme/**', capabilities: 'read,reveal' }]),
      }),
    };
    const sut = new AccessPolicy(dataSource as unknown as DataSource);
    const auditor = {
      type: 'user' as const,
      id: 'a',
      email: 'a@x',
      role: 'auditor' as const,
      mustChangePassword: false,
      mfaEnabled: false,
    };
    await expect(sut.can(auditor, 'reveal', 'acme/prod/db')).resolves.toBe(false);
    await expect(sut.can(auditor, 'read', 'acme/prod/db')).resolves.toBe(true);
    const viewer = { ...auditor, role: 'viewer' as const };
    await expect(sut.can(viewer, 'reveal', 'acme/prod/db')).resolves.toBe(true);
  });
});
