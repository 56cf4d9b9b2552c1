import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createControllerApp } from '../../test/helpers/controller-app';
import { IS_PUBLIC } from '../common/auth/auth.decorators';
import { authConfig } from '../config/auth.config';
import { vaultCompatConfig } from '../config/vault-compat.config';
import { KeyringService } from '../crypto/keyring.service';
import { VaultHttp } from './vault-http';
import { VaultSysController } from './vault-sys.controller';

describe('VaultSysController', () => {
  let app: NestFastifyApplication;
  let sealed = false;

  beforeAll(async () => {
    app = await createControllerApp(
      {
        controllers: [VaultSysController],
        providers: [
          VaultHttp,
          { provide: KeyringService, useValue: { isSealed: () => sealed } },
          { provide: authConfig.KEY, useValue: { issuer: 'custos', audience: 'custos-api' } },
          {
            provide: vaultCompatConfig.KEY,
            useValue: { enabled: true, mounts: [{ name: 'kv', prefix: 'teams/' }] },
          },
        ],
      },
      { prefixExclude: ['v1/{*splat}'] },
    );
  });

  afterAll(async () => {
    await app?.close();
  });

  beforeEach(() => {
    sealed = false;
  });

  it('should be public, as Vault’s health is', () => {
    expect(Reflect.getMetadata(IS_PUBLIC, VaultSysController.prototype.health)).toBe(true);
  });

  it('should answer 200 and Vault’s body while unsealed, as application/json exactly', async () => {
    const response = await app.inject({ method: 'GET', url: '/v1/sys/health' });

    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/json');
    expect(response.json()).toEqual(
      expect.objectContaining({ initialized: true, sealed: false, cluster_name: 'custos' }),
    );
  });

  it('should answer 503 while sealed, or the sealedcode asked for', async () => {
    sealed = true;

    const response = await app.inject({ method: 'GET', url: '/v1/sys/health' });
    expect(response.statusCode).toBe(503);
    expect(response.json().sealed).toBe(true);
    const overridden = await app.inject({ method: 'GET', url: '/v1/sys/health?sealedcode=200' });
    expect(overridden.statusCode).toBe(200);
  });

  it('should reject a malformed code with a 400 in Vault’s words', async () => {
    const response = await app.inject({ method: 'GET', url: '/v1/sys/health?activecode=x' });

    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ errors: [expect.stringContaining('bad code')] });
  });

  it('should answer the seal status to anyone', async () => {
    expect(Reflect.getMetadata(IS_PUBLIC, VaultSysController.prototype.sealStatus)).toBe(true);
    const response = await app.inject({ method: 'GET', url: '/v1/sys/seal-status' });

    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual(
      expect.objectContaining({ type: 'shamir', initialized: true, sealed: false, t: 1, n: 1 }),
    );
  });

  it('should name a configured mount as KV version 2, and no other', async () => {
    expect(Reflect.getMetadata(IS_PUBLIC, VaultSysController.prototype.mountOf)).toBeUndefined();
    const response = await app.inject({
      method: 'GET',
      url: '/v1/sys/internal/ui/mounts/kv/billing/stripe',
    });

    expect(response.statusCode).toBe(200);
    expect(response.json().data).toEqual(
      expect.objectContaining({ path: 'kv/', type: 'kv', options: { version: '2' } }),
    );
    const unknown = await app.inject({ method: 'GET', url: '/v1/sys/internal/ui/mounts/secret/x' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toEqual({ errors: [] });
  });

  it('should answer HEAD with the code and no body', async () => {
    const response = await app.inject({ method: 'HEAD', url: '/v1/sys/health?activecode=204' });

    expect(response.statusCode).toBe(204);
    expect(response.body).toBe('');
  });
});
