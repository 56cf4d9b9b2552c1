import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { actingAs, createControllerApp, strictFn } from '../../test/helpers/controller-app';
import { InvalidRoleOrSecretError, ServiceTokens } from '../auth/service-accounts/service-tokens';
import { IS_PUBLIC, LOGIN_THROTTLED } from '../common/auth/auth.decorators';
import type { Principal } from '../common/auth/principal';
import { vaultCompatConfig } from '../config/vault-compat.config';
import { KeyringService } from '../crypto/keyring.service';
import { tokenInfo, VaultAuthController } from './vault-auth.controller';
import { VaultHttp } from './vault-http';

const SERVICE: Principal = { type: 'service', id: 'sa-1', name: 'billing' };
const KEY = `cus_0123456789abcdef_${'k'.repeat(43)}`;

describe('VaultAuthController', () => {
  let app: NestFastifyApplication;
  const tokens = {
    login: strictFn('ServiceTokens.login'),
    describe: strictFn('ServiceTokens.describe'),
  };

  beforeAll(async () => {
    app = await createControllerApp(
      {
        controllers: [VaultAuthController],
        providers: [
          { provide: ServiceTokens, useValue: tokens },
          VaultHttp,
          { provide: KeyringService, useValue: { isSealed: () => false } },
          {
            provide: vaultCompatConfig.KEY,
            useValue: { enabled: true, mounts: [], tokenTtlSeconds: 1800 },
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

  it('should require authentication for the token routes, not for the login', () => {
    const proto = VaultAuthController.prototype;
    expect(Reflect.getMetadata(IS_PUBLIC, proto.lookupSelf)).toBeUndefined();
    expect(Reflect.getMetadata(IS_PUBLIC, proto.lookupSelfPost)).toBeUndefined();
    expect(Reflect.getMetadata(IS_PUBLIC, proto.renewSelf)).toBeUndefined();
    expect(Reflect.getMetadata(IS_PUBLIC, proto.login)).toBe(true);
    expect(Reflect.getMetadata(LOGIN_THROTTLED, proto.login)).toBe(true);
  });

  it('should log in with the configured lifetime and answer Vault’s auth envelope', async () => {
    tokens.login.mockResolvedValueOnce({
      token: 'cvt.x',
      principal: SERVICE,
      accessor: 'j1',
      issuedAt: new Date(),
      expiresAt: new Date(Date.now() + 1_800_000),
    });

    const response = await app.inject({
      method: 'POST',
      url: '/v1/auth/approle/login',
      payload: { role_id: 'sa-1', secret_id: KEY },
    });

    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/json');
    expect(tokens.login).toHaveBeenCalledWith('sa-1', KEY, 1800);
    expect(response.json().auth).toEqual(
      expect.objectContaining({
        client_token: 'cvt.x',
        accessor: 'j1',
        renewable: false,
        token_type: 'service',
        metadata: { role_name: 'billing' },
      }),
    );
  });

  it.each([
    ['no body', undefined],
    ['no secret_id', { role_id: 'sa-1' }],
    ['a number for role_id', { role_id: 1, secret_id: KEY }],
    ['a prototype key', JSON.parse(`{"role_id":"sa-1","secret_id":"${KEY}","constructor":1}`)],
  ])('should reject %s with a 400', async (_case, payload) => {
    const response = await app.inject({ method: 'POST', url: '/v1/auth/approle/login', payload });

    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ errors: [expect.any(String)] });
    expect(tokens.login).not.toHaveBeenCalled();
  });

  it('should ignore an unknown field, as Vault does', async () => {
    tokens.login.mockRejectedValueOnce(new InvalidRoleOrSecretError());
    const response = await app.inject({
      method: 'POST',
      url: '/v1/auth/approle/login',
      payload: { role_id: 'sa-1', secret_id: KEY, extra: 1 },
    });

    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ errors: ['invalid role or secret ID'] });
    expect(tokens.login).toHaveBeenCalledWith('sa-1', KEY, 1800);
  });

  it('should answer a bad role or secret with Vault’s words', async () => {
    tokens.login.mockRejectedValueOnce(new InvalidRoleOrSecretError());
    const response = await app.inject({
      method: 'POST',
      url: '/v1/auth/approle/login',
      payload: { role_id: 'sa-1', secret_id: 'nope' },
    });

    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ errors: ['invalid role or secret ID'] });
  });

  it('should describe the caller’s own token on lookup-self', async () => {
    tokens.describe.mockResolvedValueOnce({
      kind: 'api-key',
      accessor: '0123456789abcdef',
      issuedAt: null,
      expiresAt: null,
    });
    const response = await app.inject({
      method: 'GET',
      url: '/v1/auth/token/lookup-self',
      headers: { 'x-vault-token': KEY },
    });

    expect(response.statusCode).toBe(200);
    expect(response.json().data).toEqual(
      expect.objectContaining({ id: KEY, accessor: '0123456789abcdef', entity_id: 'sa-1' }),
    );
  });
});

describe('tokenInfo', () => {
  it('should count the time left and name how the token was made', () => {
    const now = new Date('2026-01-01T00:00:00Z');
    const info = tokenInfo(
      SERVICE,
      {
        kind: 'service-token',
        accessor: 'j1',
        issuedAt: new Date('2025-12-31T23:30:00Z'),
        expiresAt: new Date('2026-01-01T00:30:00Z'),
      },
      'cvt.x',
      now,
    );

    expect(info).toEqual(
      expect.objectContaining({
        ttl: 1800,
        creation_ttl: 3600,
        path: 'auth/approle/login',
        display_name: 'approle-billing',
        expire_time: '2026-01-01T00:30:00.000Z',
        renewable: false,
        type: 'service',
      }),
    );
  });
});
