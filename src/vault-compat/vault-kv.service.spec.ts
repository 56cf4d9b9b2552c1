import { strictFn } from '../../test/helpers/controller-app';
import type { AuditWriter } from '../audit/audit-writer';
import type { Principal } from '../common/auth/principal';
import { RequestValidationError } from '../common/validation/request-validation.error';
import type { VaultCompatConfig } from '../config/vault-compat.config';
import type { CredentialLifecycleService } from '../credentials/credential-lifecycle.service';
import type { CredentialQueryService } from '../credentials/credential-query.service';
import {
  CredentialNotFoundError,
  VersionMismatchError,
  VersionNotRevealableError,
} from '../credentials/credential.errors';
import type { CredentialsService } from '../credentials/credentials.service';
import type { RevealService } from '../credentials/reveal.service';
import type { SecretVersionsService } from '../credentials/secret-versions.service';
import { VaultNoHandlerError, VaultRoleRequiredError, VaultUnsupportedError } from './vault.errors';
import { AccessPolicy, PrincipalAccess } from '../auth/grants/access-policy';
import { VaultPermissionDeniedError, VaultSecretDeletedError } from './vault.errors';
import { VaultKvService } from './vault-kv.service';

const SERVICE: Principal = { type: 'service', id: 'sa-1', name: 'billing' };
const ADMIN: Principal = {
  type: 'user',
  id: 'u-1',
  email: 'admin@example.com',
  role: 'admin',
  mustChangePassword: false,
  mfaEnabled: false,
};
const CONFIG: VaultCompatConfig = {
  enabled: true,
  mounts: [
    { name: 'secret', prefix: '' },
    { name: 'kv', prefix: 'teams/' },
  ],
  tokenTtlSeconds: 3600,
};
const CREATED = new Date('2026-01-01T00:00:00Z');
const credential = (overrides: Record<string, unknown> = {}) => ({
  id: 'c-1',
  path: 'acme/db',
  currentVersion: 2,
  metadata: null,
  createdAt: CREATED,
  updatedAt: CREATED,
  ...overrides,
});
const version = (n: number, state: string) => ({
  version: n,
  state,
  createdAt: CREATED,
  revokedAt: state === 'revoked' ? CREATED : null,
});

describe('VaultKvService', () => {
  let sut: VaultKvService;
  const reveals = { revealByPath: strictFn('RevealService.revealByPath') };
  const credentials = {
    create: strictFn('CredentialsService.create'),
    getByPath: strictFn('CredentialsService.getByPath'),
    idAtPath: strictFn('CredentialsService.idAtPath'),
  };
  const queries = { readablePathsUnder: strictFn('CredentialQueryService.readablePathsUnder') };
  const versions = {
    list: strictFn('SecretVersionsService.list'),
    history: strictFn('SecretVersionsService.history'),
    replaceSecret: strictFn('SecretVersionsService.replaceSecret'),
  };
  const lifecycle = {
    restore: strictFn('CredentialLifecycleService.restore'),
    softDelete: strictFn('CredentialLifecycleService.softDelete'),
    destroy: strictFn('CredentialLifecycleService.destroy'),
  };
  const audit = { record: strictFn('AuditWriter.record') };
  // Every path is covered unless a test says otherwise.
  const policy = {
    can: jest.fn(() => Promise.resolve(true)),
    forPrincipal: jest.fn(() => Promise.resolve(new PrincipalAccess(new Set(['read']), []))),
  };

  beforeEach(() => {
    jest.clearAllMocks();
    sut = new VaultKvService(
      CONFIG,
      reveals as unknown as RevealService,
      credentials as unknown as CredentialsService,
      queries as unknown as CredentialQueryService,
      versions as unknown as SecretVersionsService,
      lifecycle as unknown as CredentialLifecycleService,
      audit as unknown as AuditWriter,
      policy as unknown as AccessPolicy,
    );
  });

  describe('paths no grant covers', () => {
    it.each([
      ['read', 'reveal', () => sut.read('kv', 'acme/db', undefined, SERVICE)],
      ['write', 'write', () => sut.write('kv', 'acme/db', { data: { a: 'b' }, cas: 0 }, SERVICE)],
      ['metadata', 'read', () => sut.metadata('kv', 'acme/db', SERVICE)],
      ['soft delete', 'delete', () => sut.softDelete('kv', 'acme/db', SERVICE)],
      ['undelete', 'delete', () => sut.undelete('kv', 'acme/db', SERVICE)],
    ])(
      'should refuse %s with permission denied before looking anything up',
      async (_name, capability, call) => {
        policy.can.mockResolvedValueOnce(false);

        await expect(call()).rejects.toThrow(VaultPermissionDeniedError);

        expect(policy.can).toHaveBeenCalledWith(SERVICE, capability, 'teams/acme/db');
        expect(credentials.idAtPath).not.toHaveBeenCalled();
        expect(reveals.revealByPath).not.toHaveBeenCalled();
      },
    );
  });

  describe('read', () => {
    it('should reveal by the mapped path and version, with the version’s creation time and the custom metadata', async () => {
      reveals.revealByPath.mockResolvedValueOnce({ id: 'c-1', version: 1, secret: { a: 'b' } });
      versions.history.mockResolvedValueOnce({
        credential: credential({ metadata: { owner: 'ops', ticket: 42 } }),
        versions: [version(2, 'current'), version(1, 'previous')],
      });

      const data = await sut.read('kv', 'acme/db', 1, SERVICE);

      expect(reveals.revealByPath).toHaveBeenCalledWith('teams/acme/db', SERVICE, undefined, 1);
      expect(data).toEqual({
        data: { a: 'b' },
        metadata: {
          created_time: CREATED.toISOString(),
          custom_metadata: { owner: 'ops' },
          deletion_time: '',
          destroyed: false,
          version: 1,
        },
      });
    });

    it('should answer a version that cannot be revealed as not found, as Vault does', async () => {
      reveals.revealByPath.mockRejectedValueOnce(new VersionNotRevealableError(1, 'revoked'));

      await expect(sut.read('secret', 'acme/db', 1, SERVICE)).rejects.toThrow(
        CredentialNotFoundError,
      );
    });

    it('should refuse an unknown mount and a malformed path before any lookup', async () => {
      await expect(sut.read('nope', 'acme/db', undefined, SERVICE)).rejects.toThrow(
        VaultNoHandlerError,
      );
      await expect(sut.read('secret', 'Acme/../db', undefined, SERVICE)).rejects.toThrow(
        RequestValidationError,
      );
      expect(reveals.revealByPath).not.toHaveBeenCalled();
    });
  });

  describe('write', () => {
    it('should create a kv credential named after the last segment where there is none', async () => {
      credentials.idAtPath.mockResolvedValueOnce(null);
      credentials.create.mockResolvedValueOnce(credential({ currentVersion: 1 }));

      const data = await sut.write('secret', 'acme/db', { data: { a: 'b' }, cas: 0 }, SERVICE);

      expect(credentials.create).toHaveBeenCalledWith(
        { path: 'acme/db', name: 'db', type: 'kv', secret: { a: 'b' } },
        SERVICE,
        undefined,
      );
      expect(data).toEqual(expect.objectContaining({ version: 1, destroyed: false }));
    });

    it('should store a new version of an existing credential with cas as If-Match', async () => {
      credentials.idAtPath.mockResolvedValueOnce('c-1');
      versions.replaceSecret.mockResolvedValueOnce(credential({ currentVersion: 3 }));

      const data = await sut.write('secret', 'acme/db', { data: { a: 'b' }, cas: 2 }, SERVICE);

      expect(versions.replaceSecret).toHaveBeenCalledWith('c-1', { a: 'b' }, 2, SERVICE, undefined);
      expect(data.version).toBe(3);
    });

    it('should say how to write again to a soft-deleted secret, to a caller that may read it', async () => {
      credentials.idAtPath.mockResolvedValue('c-1');
      versions.replaceSecret.mockRejectedValue(new CredentialNotFoundError());
      versions.history.mockResolvedValueOnce({
        credential: credential({ status: 'deleted' }),
        versions: [],
      });

      await expect(sut.write('secret', 'acme/db', { data: { a: 'b' } }, SERVICE)).rejects.toThrow(
        VaultSecretDeletedError,
      );
      expect(versions.history).toHaveBeenCalledWith('c-1', SERVICE, { includeDeleted: true });

      // One that may not read it learns nothing more than not found.
      versions.history.mockRejectedValueOnce(new CredentialNotFoundError());
      await expect(sut.write('secret', 'acme/db', { data: { a: 'b' } }, SERVICE)).rejects.toThrow(
        CredentialNotFoundError,
      );
      credentials.idAtPath.mockReset();
      versions.replaceSecret.mockReset();
    });

    it('should refuse cas 0 where a credential exists, and cas N where none does', async () => {
      credentials.idAtPath.mockResolvedValueOnce('c-1');
      await expect(sut.write('secret', 'acme/db', { data: {}, cas: 0 }, SERVICE)).rejects.toThrow(
        VersionMismatchError,
      );
      credentials.idAtPath.mockResolvedValueOnce(null);
      await expect(sut.write('secret', 'acme/db', { data: {}, cas: 4 }, SERVICE)).rejects.toThrow(
        VersionMismatchError,
      );
      expect(versions.replaceSecret).not.toHaveBeenCalled();
      expect(credentials.create).not.toHaveBeenCalled();
    });
  });

  describe('metadata and list', () => {
    it('should describe every version, oldest first, never a value', async () => {
      credentials.idAtPath.mockResolvedValueOnce('c-1');
      versions.history.mockResolvedValueOnce({
        credential: credential({ metadata: { owner: 'ops' }, status: 'active' }),
        versions: [version(2, 'current'), version(1, 'revoked')],
      });

      const data = await sut.metadata('secret', 'acme/db', SERVICE);

      expect(data).toEqual(
        expect.objectContaining({
          current_version: 2,
          oldest_version: 1,
          custom_metadata: { owner: 'ops' },
          versions: {
            '1': {
              created_time: CREATED.toISOString(),
              deletion_time: CREATED.toISOString(),
              destroyed: false,
            },
            '2': { created_time: CREATED.toISOString(), deletion_time: '', destroyed: false },
          },
        }),
      );
    });

    it('should describe a soft-deleted secret, every version deleted at its deletion time', async () => {
      const deletedAt = new Date('2026-02-01T00:00:00Z');
      credentials.idAtPath.mockResolvedValueOnce('c-1');
      versions.history.mockResolvedValueOnce({
        credential: credential({ status: 'deleted', deletedAt }),
        versions: [version(2, 'current'), version(1, 'revoked')],
      });

      const data = await sut.metadata('secret', 'acme/db', SERVICE);

      expect(versions.history).toHaveBeenCalledWith('c-1', SERVICE, { includeDeleted: true });
      expect(data.versions).toEqual({
        '1': {
          created_time: CREATED.toISOString(),
          deletion_time: CREATED.toISOString(),
          destroyed: false,
        },
        '2': {
          created_time: CREATED.toISOString(),
          deletion_time: deletedAt.toISOString(),
          destroyed: false,
        },
      });
    });

    it('should answer metadata of a free path as not found', async () => {
      credentials.idAtPath.mockResolvedValueOnce(null);

      await expect(sut.metadata('secret', 'acme/db', SERVICE)).rejects.toThrow(
        CredentialNotFoundError,
      );
    });

    it('should refuse a list where no grant of the caller reaches, before looking anything up', async () => {
      policy.forPrincipal.mockResolvedValueOnce(
        new PrincipalAccess(new Set(), [{ pathPattern: 'teams/other/*', capabilities: 'read' }]),
      );

      await expect(sut.list('kv', 'a/', SERVICE)).rejects.toThrow(VaultPermissionDeniedError);
      expect(queries.readablePathsUnder).not.toHaveBeenCalled();
    });

    it('should list the children of the folder and record the list', async () => {
      queries.readablePathsUnder.mockResolvedValueOnce(['teams/a/x', 'teams/a/y/z']);
      audit.record.mockResolvedValueOnce(undefined);

      expect(await sut.list('kv', 'a/', SERVICE)).toEqual(['x', 'y/']);
      expect(queries.readablePathsUnder).toHaveBeenCalledWith('teams/a/', SERVICE, 10_000);
      expect(audit.record).toHaveBeenCalledWith(
        expect.objectContaining({ action: 'credential.list', outcome: 'success' }),
      );
    });

    it('should answer an empty folder as not found, recording nothing itself', async () => {
      queries.readablePathsUnder.mockResolvedValueOnce([]);

      await expect(sut.list('secret', '', SERVICE)).rejects.toThrow(CredentialNotFoundError);
      expect(audit.record).not.toHaveBeenCalled();
    });
  });

  describe('delete and destroy', () => {
    it('should soft delete through the native service', async () => {
      credentials.idAtPath.mockResolvedValueOnce('c-1');
      lifecycle.softDelete.mockResolvedValueOnce(undefined);

      await sut.softDelete('secret', 'acme/db', SERVICE);

      expect(lifecycle.softDelete).toHaveBeenCalledWith('c-1', SERVICE, undefined);
    });

    it('should soft delete versions only when every live one is named', async () => {
      credentials.getByPath.mockResolvedValueOnce(credential()).mockResolvedValueOnce(credential());
      versions.list
        .mockResolvedValueOnce([version(2, 'current'), version(1, 'previous')])
        .mockResolvedValueOnce([version(2, 'current'), version(1, 'previous')]);
      lifecycle.softDelete.mockResolvedValueOnce(undefined);

      await expect(sut.deleteVersions('secret', 'acme/db', [2], SERVICE)).rejects.toThrow(
        VaultUnsupportedError,
      );
      await sut.deleteVersions('secret', 'acme/db', [1, 2], SERVICE);
      expect(lifecycle.softDelete).toHaveBeenCalledWith('c-1', SERVICE, undefined);
    });

    it('should undelete through the native restore', async () => {
      credentials.idAtPath.mockResolvedValueOnce('c-1');
      lifecycle.restore.mockResolvedValueOnce({});

      await sut.undelete('secret', 'acme/db', SERVICE);

      expect(lifecycle.restore).toHaveBeenCalledWith('c-1', SERVICE, undefined);
    });

    it('should keep destroying to admins', async () => {
      await expect(sut.destroyAll('secret', 'acme/db', SERVICE)).rejects.toThrow(
        VaultRoleRequiredError,
      );
      await expect(sut.destroyVersions('secret', 'acme/db', [1], SERVICE)).rejects.toThrow(
        VaultRoleRequiredError,
      );
    });

    it('should destroy only when every version not yet destroyed is named', async () => {
      credentials.getByPath.mockResolvedValue(credential());
      versions.list.mockResolvedValue([
        version(3, 'current'),
        version(2, 'previous'),
        version(1, 'destroyed'),
      ]);
      lifecycle.destroy.mockResolvedValueOnce(undefined);

      await expect(sut.destroyVersions('secret', 'acme/db', [3], ADMIN)).rejects.toThrow(
        VaultUnsupportedError,
      );
      expect(lifecycle.destroy).not.toHaveBeenCalled();
      await sut.destroyVersions('secret', 'acme/db', [2, 3], ADMIN);
      expect(lifecycle.destroy).toHaveBeenCalledWith('c-1', ADMIN, undefined);
    });
  });
});
