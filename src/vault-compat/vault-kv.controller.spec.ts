import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { actingAs, createControllerApp, strictFn } from '../../test/helpers/controller-app';
import { IS_PUBLIC, ROLES } from '../common/auth/auth.decorators';
import type { Principal } from '../common/auth/principal';
import { RequestValidationError } from '../common/validation/request-validation.error';
import { vaultCompatConfig } from '../config/vault-compat.config';
import {
  CapabilityRequiredError,
  CredentialNotFoundError,
  VersionMismatchError,
} from '../credentials/credential.errors';
import { KeyringService } from '../crypto/keyring.service';
import { VaultHttp } from './vault-http';
import { VaultKvController } from './vault-kv.controller';
import { VaultKvService } from './vault-kv.service';

const SERVICE: Principal = {
  type: 'service',
  id: '7d3c1b2a-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
  name: 'billing-api',
};

describe('VaultKvController', () => {
  let app: NestFastifyApplication;
  const kv = {
    read: strictFn('VaultKvService.read'),
    write: strictFn('VaultKvService.write'),
    metadata: strictFn('VaultKvService.metadata'),
    list: strictFn('VaultKvService.list'),
    softDelete: strictFn('VaultKvService.softDelete'),
    destroyVersions: strictFn('VaultKvService.destroyVersions'),
    destroyAll: strictFn('VaultKvService.destroyAll'),
  };

  beforeAll(async () => {
    app = await createControllerApp(
      {
        controllers: [VaultKvController],
        providers: [
          { provide: VaultKvService, useValue: kv },
          VaultHttp,
          { provide: KeyringService, useValue: { isSealed: () => false } },
          {
            provide: vaultCompatConfig.KEY,
            useValue: { enabled: true, mounts: [{ name: 'secret', prefix: '' }] },
          },
        ],
      },
      { beforeInit: actingAs(() => SERVICE), prefixExclude: ['v1/{*splat}'] },
    );
  });

  afterAll(async () => {
    await app?.close();
  });

  beforeEach(() => jest.clearAllMocks());

  it('should require authentication', () => {
    expect(Reflect.getMetadata(IS_PUBLIC, VaultKvController)).toBeUndefined();
    for (const handler of Object.getOwnPropertyNames(VaultKvController.prototype)) {
      const method = (VaultKvController.prototype as unknown as Record<string, object>)[handler];
      expect(Reflect.getMetadata(IS_PUBLIC, method)).toBeUndefined();
    }
  });

  it('should keep destroying to admins, as the native destroy route does', () => {
    expect(Reflect.getMetadata(ROLES, VaultKvController.prototype.destroy)).toEqual(['admin']);
    expect(Reflect.getMetadata(ROLES, VaultKvController.prototype.destroyAll)).toEqual(['admin']);
    expect(Reflect.getMetadata(ROLES, VaultKvController.prototype.read)).toBeUndefined();
  });

  it('should read a secret in Vault’s envelope, as application/json exactly', async () => {
    kv.read.mockResolvedValueOnce({ data: { a: 'b' }, metadata: { version: 3 } });

    const response = await app.inject({ method: 'GET', url: '/v1/secret/data/acme/db?version=3' });

    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/json');
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.json()).toEqual(
      expect.objectContaining({
        data: { data: { a: 'b' }, metadata: { version: 3 } },
        lease_id: '',
        renewable: false,
        mount_type: 'kv',
      }),
    );
    expect(kv.read).toHaveBeenCalledWith('secret', 'acme/db', 3, SERVICE, expect.anything());
  });

  it('should reject a bad version with Vault’s error body', async () => {
    const response = await app.inject({ method: 'GET', url: '/v1/secret/data/acme/db?version=x' });

    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ errors: [expect.stringContaining('version')] });
    expect(kv.read).not.toHaveBeenCalled();
  });

  it('should reject a bad id (a path the service refuses) with a 400', async () => {
    kv.read.mockRejectedValueOnce(
      new RequestValidationError([{ field: 'path', errors: ['segment 1 may only hold a-z'] }]),
    );
    const response = await app.inject({ method: 'GET', url: '/v1/secret/data/Acme/DB' });

    expect(response.statusCode).toBe(400);
    expect(response.json().errors).toHaveLength(1);
  });

  it.each([
    ['a missing credential', new CredentialNotFoundError(), 404, []],
    ['a missing grant', new CapabilityRequiredError('reveal'), 403, ['permission denied']],
  ])('should answer %s as Vault does', async (_case, error, status, errors) => {
    kv.read.mockRejectedValueOnce(error);
    const response = await app.inject({ method: 'GET', url: '/v1/secret/data/acme/db' });

    expect(response.statusCode).toBe(status);
    expect(response.json()).toEqual({ errors });
    expect(response.headers['content-type']).toBe('application/json');
  });

  describe('writes', () => {
    it('should pass data and cas on, whatever content type the body came with', async () => {
      kv.write.mockResolvedValueOnce({ version: 2 });
      const response = await app.inject({
        method: 'POST',
        url: '/v1/secret/data/acme/db',
        headers: { 'content-type': 'text/plain' },
        payload: JSON.stringify({ data: { password: 'x' }, options: { cas: 1 } }),
      });

      expect(response.statusCode).toBe(200);
      expect(response.json().data).toEqual({ version: 2 });
      expect(kv.write).toHaveBeenCalledWith(
        'secret',
        'acme/db',
        { data: { password: 'x' }, cas: 1 },
        SERVICE,
        expect.anything(),
      );
    });

    it('should take PUT like POST', async () => {
      kv.write.mockResolvedValueOnce({ version: 1 });
      await app.inject({ method: 'PUT', url: '/v1/secret/data/x', payload: { data: {} } });
      expect(kv.write).toHaveBeenCalledTimes(1);
    });

    it.each([
      ['no data', {}],
      ['data that is not an object', { data: 'x' }],
      ['a negative cas', { data: {}, options: { cas: -1 } }],
      ['a cas that is not a number', { data: {}, options: { cas: '1' } }],
      ['a prototype key at the top', JSON.parse('{"data":{},"constructor":{}}')],
      ['a prototype key in the data', JSON.parse('{"data":{"toString":"x"}}')],
      ['an array for a body', [{ data: {} }]],
    ])('should refuse %s with a 400', async (_case, payload) => {
      const response = await app.inject({
        method: 'POST',
        url: '/v1/secret/data/acme/db',
        payload,
      });
      expect(response.statusCode).toBe(400);
      expect(response.json()).toEqual({ errors: [expect.any(String)] });
      expect(kv.write).not.toHaveBeenCalled();
    });

    it('should ignore unknown fields as Vault does, naming the top-level ones in warnings', async () => {
      kv.write.mockResolvedValueOnce({ version: 2 });
      const response = await app.inject({
        method: 'POST',
        url: '/v1/secret/data/acme/db',
        payload: {
          data: { password: 'x', extra: 'kept: it is the secret' },
          options: { cas: 1, max_versions: 3 },
          zeta: true,
          alpha: { nested: 1 },
          version: 7,
        },
      });

      expect(response.statusCode).toBe(200);
      expect(response.json().warnings).toEqual([
        'Endpoint ignored these unrecognized parameters: [alpha zeta]',
      ]);
      expect(kv.write).toHaveBeenCalledWith(
        'secret',
        'acme/db',
        { data: { password: 'x', extra: 'kept: it is the secret' }, cas: 1 },
        SERVICE,
        expect.anything(),
      );
    });

    it('should answer no warnings when every field is known', async () => {
      kv.write.mockResolvedValueOnce({ version: 2 });
      const response = await app.inject({
        method: 'POST',
        url: '/v1/secret/data/acme/db',
        payload: { data: { a: 'b' } },
      });

      expect(response.json().warnings).toBeNull();
    });

    it('should ignore an unknown field of a destroy body', async () => {
      kv.destroyVersions.mockResolvedValueOnce(undefined);
      const response = await app.inject({
        method: 'POST',
        url: '/v1/secret/destroy/acme/db',
        payload: { versions: [1], extra: 'x' },
      });

      expect(response.statusCode).toBe(204);
      expect(kv.destroyVersions).toHaveBeenCalledWith(
        'secret',
        'acme/db',
        [1],
        SERVICE,
        expect.anything(),
      );
    });

    it('should answer a check-and-set mismatch with Vault’s words', async () => {
      kv.write.mockRejectedValueOnce(new VersionMismatchError('1', 2));
      const response = await app.inject({
        method: 'POST',
        url: '/v1/secret/data/acme/db',
        payload: { data: { a: 'b' }, options: { cas: 1 } },
      });

      expect(response.statusCode).toBe(400);
      expect(response.json()).toEqual({
        errors: ['check-and-set parameter did not match the current version'],
      });
    });
  });

  describe('metadata', () => {
    it('should answer the metadata of a path', async () => {
      kv.metadata.mockResolvedValueOnce({ current_version: 2 });
      const response = await app.inject({ method: 'GET', url: '/v1/secret/metadata/acme/db' });

      expect(response.json().data).toEqual({ current_version: 2 });
      expect(kv.list).not.toHaveBeenCalled();
    });

    it('should list a folder with ?list=true', async () => {
      kv.list.mockResolvedValueOnce(['db', 'web/']);
      const response = await app.inject({
        method: 'GET',
        url: '/v1/secret/metadata/acme?list=true',
      });

      expect(response.json().data).toEqual({ keys: ['db', 'web/'] });
      expect(kv.list).toHaveBeenCalledWith('secret', 'acme', SERVICE, expect.anything());
    });
  });

  describe('deletes', () => {
    it('should soft delete with 204 and no content type', async () => {
      kv.softDelete.mockResolvedValueOnce(undefined);
      const response = await app.inject({ method: 'DELETE', url: '/v1/secret/data/acme/db' });

      expect(response.statusCode).toBe(204);
      expect(response.body).toBe('');
    });

    it('should pass the versions to destroy on', async () => {
      kv.destroyVersions.mockResolvedValueOnce(undefined);
      const response = await app.inject({
        method: 'POST',
        url: '/v1/secret/destroy/acme/db',
        payload: { versions: [1, 2] },
      });

      expect(response.statusCode).toBe(204);
      expect(kv.destroyVersions).toHaveBeenCalledWith(
        'secret',
        'acme/db',
        [1, 2],
        SERVICE,
        expect.anything(),
      );
    });

    it.each([[{}], [{ versions: [] }], [{ versions: [0] }], [{ versions: ['1'] }]])(
      'should refuse the destroy body %j',
      async (payload) => {
        const response = await app.inject({
          method: 'POST',
          url: '/v1/secret/destroy/acme/db',
          payload,
        });
        expect(response.statusCode).toBe(400);
        expect(kv.destroyVersions).not.toHaveBeenCalled();
      },
    );

    it('should destroy everything with DELETE metadata', async () => {
      kv.destroyAll.mockResolvedValueOnce(undefined);
      const response = await app.inject({ method: 'DELETE', url: '/v1/secret/metadata/acme/db' });
      expect(response.statusCode).toBe(204);
    });
  });
});
