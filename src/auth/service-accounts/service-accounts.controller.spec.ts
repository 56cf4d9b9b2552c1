import { NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  actingAs,
  createControllerApp,
  strictFn,
  VALIDATION_ERROR,
} from '../../../test/helpers/controller-app';
import { IS_PUBLIC, ROLES } from '../../common/auth/auth.decorators';
import type { Principal } from '../../common/auth/principal';
import { USER_CURSOR } from '../dto/user.dto';
import { ApiKey } from './api-key.entity';
import { SERVICE_ACCOUNT_CURSOR } from './dto/service-account.dto';
import { ServiceAccount } from './service-account.entity';
import { ServiceAccountsController } from './service-accounts.controller';
import { ServiceAccountsService } from './service-accounts.service';

const ADMIN: Principal = {
  type: 'user',
  id: '9c2d4e6f-8a0b-4c1d-9e2f-3a4b5c6d7e8f',
  email: 'admin@example.com',
  role: 'admin',
  mustChangePassword: false,
  mfaEnabled: false,
};
const ACCOUNT_ID = '7d3c1b2a-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const URL = `/api/v1/service-accounts/${ACCOUNT_ID}`;

function account(overrides: Partial<ServiceAccount> = {}): ServiceAccount {
  return Object.assign(new ServiceAccount(), {
    id: ACCOUNT_ID,
    name: 'billing-api',
    description: null,
    status: 'active',
    createdAt: new Date('2025-01-02T03:04:05.000Z'),
    ...overrides,
  });
}

function apiKey(): ApiKey {
  return Object.assign(new ApiKey(), {
    id: '0123456789abcdef',
    label: null,
    expiresAt: null,
    revokedAt: null,
    lastUsedAt: null,
    createdAt: new Date('2025-01-02T03:04:05.000Z'),
  });
}

describe('ServiceAccountsController', () => {
  let app: NestFastifyApplication;
  const accounts = {
    create: strictFn('ServiceAccountsService.create'),
    list: strictFn('ServiceAccountsService.list'),
    get: strictFn('ServiceAccountsService.get'),
    update: strictFn('ServiceAccountsService.update'),
    remove: strictFn('ServiceAccountsService.remove'),
    createKey: strictFn('ServiceAccountsService.createKey'),
    listKeys: strictFn('ServiceAccountsService.listKeys'),
    revokeKey: strictFn('ServiceAccountsService.revokeKey'),
  };
  const expectNoServiceCalled = () => {
    for (const mock of Object.values(accounts)) expect(mock).not.toHaveBeenCalled();
  };
  const fieldsOf = (response: { json: () => { fields: { field: string }[] } }) =>
    response.json().fields.map((f) => f.field);

  beforeAll(async () => {
    app = await createControllerApp(
      {
        controllers: [ServiceAccountsController],
        providers: [{ provide: ServiceAccountsService, useValue: accounts }],
      },
      { beforeInit: actingAs(() => ADMIN) },
    );
  });

  afterAll(async () => {
    await app?.close();
  });

  beforeEach(() => jest.clearAllMocks());

  it('should require authentication', () => {
    expect(Reflect.getMetadata(IS_PUBLIC, ServiceAccountsController)).toBeUndefined();
    expect(Reflect.getMetadata(ROLES, ServiceAccountsController)).toEqual(['admin']);
  });

  it('should reject a bad id', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/v1/service-accounts/42' });
    expect(response.statusCode).toBe(400);
    expectNoServiceCalled();
  });

  describe('GET /api/v1/service-accounts', () => {
    it('should list the first page by default and pass its cursor on', async () => {
      const next = SERVICE_ACCOUNT_CURSOR.encode('billing-api');
      accounts.list.mockResolvedValueOnce({ items: [account()], nextCursor: next });

      const response = await app.inject({ method: 'GET', url: '/api/v1/service-accounts' });

      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({
        items: [
          {
            id: ACCOUNT_ID,
            name: 'billing-api',
            description: null,
            status: 'active',
            createdAt: '2025-01-02T03:04:05.000Z',
          },
        ],
        nextCursor: next,
      });
      expect(accounts.list).toHaveBeenCalledWith(undefined, undefined);
    });

    it('should pass the limit and a cursor of a previous page on', async () => {
      const cursor = SERVICE_ACCOUNT_CURSOR.encode('billing-api');
      accounts.list.mockResolvedValueOnce({ items: [], nextCursor: null });

      const response = await app.inject({
        method: 'GET',
        url: '/api/v1/service-accounts',
        query: { limit: '2', cursor },
      });

      expect(response.statusCode).toBe(200);
      expect(accounts.list).toHaveBeenCalledWith(2, cursor);
    });

    it.each([
      ['a garbage cursor', 'cursor=garbage', 'cursor'],
      ['a cursor of another list', `cursor=${USER_CURSOR.encode('a@b')}`, 'cursor'],
      [
        'a cursor holding no account name',
        `cursor=${SERVICE_ACCOUNT_CURSOR.encode('A B')}`,
        'cursor',
      ],
      ['a limit that is not a number', 'limit=abc', 'limit'],
      ['a limit of 501', 'limit=501', 'limit'],
      ['an unknown parameter', 'foo=1', 'foo'],
      ['a parameter named toString', 'toString=1', 'toString'],
    ])('should answer 400 for %s', async (_case, query, field) => {
      const response = await app.inject({
        method: 'GET',
        url: `/api/v1/service-accounts?${query}`,
      });

      expect(response.statusCode).toBe(400);
      expect(response.json()).toEqual(VALIDATION_ERROR);
      expect(fieldsOf(response)).toEqual([field]);
      expectNoServiceCalled();
    });
  });

  describe('GET /api/v1/service-accounts/:id/keys', () => {
    it('should list the keys', async () => {
      accounts.listKeys.mockResolvedValueOnce([apiKey()]);
      const response = await app.inject({ method: 'GET', url: `${URL}/keys` });
      expect(response.statusCode).toBe(200);
      expect(response.json().items).toHaveLength(1);
    });

    it('should refuse query parameters, as it takes none', async () => {
      const response = await app.inject({ method: 'GET', url: `${URL}/keys?limit=5` });
      expect(response.statusCode).toBe(400);
      expect(fieldsOf(response)).toEqual(['limit']);
      expectNoServiceCalled();
    });
  });

  describe('PATCH /api/v1/service-accounts/:id', () => {
    it('should take a null description to clear it', async () => {
      accounts.update.mockResolvedValueOnce(account());
      const response = await app.inject({
        method: 'PATCH',
        url: URL,
        payload: { description: null },
      });
      expect(response.statusCode).toBe(200);
      expect(accounts.update.mock.calls[0][1]).toEqual({ description: null });
    });

    it.each([
      ['a null status', { status: null }, ['status']],
      ['a field named constructor', { constructor: {} }, ['constructor']],
      ['a field named valueOf', { description: 'x', valueOf: 'y' }, ['valueOf']],
    ])('should answer 400 for %s', async (_case, payload, fields) => {
      const response = await app.inject({ method: 'PATCH', url: URL, payload });
      expect(response.statusCode).toBe(400);
      expect(fieldsOf(response)).toEqual(fields);
      expectNoServiceCalled();
    });
  });

  describe('POST /api/v1/service-accounts/:id/keys', () => {
    it('should take an empty JSON body as no options', async () => {
      accounts.createKey.mockResolvedValueOnce({ key: apiKey(), apiKey: 'cus_x_y' });

      const response = await app.inject({
        method: 'POST',
        url: `${URL}/keys`,
        headers: { 'content-type': 'application/json' },
        payload: '',
      });

      expect(response.statusCode).toBe(201);
      expect(accounts.createKey.mock.calls[0][1]).toEqual({});
    });
  });

  describe('POST /api/v1/service-accounts', () => {
    it('should say a body is required when an empty JSON body came', async () => {
      const response = await app.inject({
        method: 'POST',
        url: '/api/v1/service-accounts',
        headers: { 'content-type': 'application/json' },
        payload: '',
      });
      expect(response.statusCode).toBe(400);
      expect(fieldsOf(response)).toEqual(['(body)', 'name']);
      expectNoServiceCalled();
    });
  });
});
