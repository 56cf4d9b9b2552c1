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
import { User } from './user.entity';
import { UsersController } from './users.controller';
import { UsersService } from './users.service';

const ADMIN: Principal = {
  type: 'user',
  id: '9c2d4e6f-8a0b-4c1d-9e2f-3a4b5c6d7e8f',
  email: 'admin@example.com',
  role: 'admin',
  mustChangePassword: false,
  mfaEnabled: false,
};
const USER_ID = '0b9f6a3e-4f0c-4d59-9a3e-1f2b3c4d5e6f';
const URL = `/api/v1/users/${USER_ID}`;

function user(overrides: Partial<User> = {}): User {
  return Object.assign(new User(), {
    id: USER_ID,
    email: 'ada@example.com',
    role: 'operator',
    status: 'active',
    mfaEnabled: false,
    mustChangePassword: false,
    lockedUntil: null,
    createdAt: new Date('2025-01-02T03:04:05.000Z'),
    ...overrides,
  });
}

describe('UsersController', () => {
  let app: NestFastifyApplication;
  const users = {
    create: strictFn('UsersService.create'),
    list: strictFn('UsersService.list'),
    get: strictFn('UsersService.get'),
    update: strictFn('UsersService.update'),
    resetPassword: strictFn('UsersService.resetPassword'),
    remove: strictFn('UsersService.remove'),
  };
  const expectNoServiceCalled = () => {
    for (const mock of Object.values(users)) expect(mock).not.toHaveBeenCalled();
  };
  const fieldsOf = (response: { json: () => { fields: { field: string }[] } }) =>
    response.json().fields.map((f) => f.field);

  beforeAll(async () => {
    app = await createControllerApp(
      { controllers: [UsersController], providers: [{ provide: UsersService, useValue: users }] },
      { beforeInit: actingAs(() => ADMIN) },
    );
  });

  afterAll(async () => {
    await app?.close();
  });

  beforeEach(() => jest.clearAllMocks());

  it('should require authentication', () => {
    expect(Reflect.getMetadata(IS_PUBLIC, UsersController)).toBeUndefined();
    expect(Reflect.getMetadata(ROLES, UsersController)).toEqual(['admin']);
  });

  it('should reject a bad id', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/v1/users/not-a-uuid' });
    expect(response.statusCode).toBe(400);
    expectNoServiceCalled();
  });

  describe('PATCH /api/v1/users/:id', () => {
    it('should pass a role and status change on', async () => {
      users.update.mockResolvedValueOnce(user({ role: 'viewer', status: 'disabled' }));

      const response = await app.inject({
        method: 'PATCH',
        url: URL,
        payload: { role: 'viewer', status: 'disabled' },
      });

      expect(response.statusCode).toBe(200);
      expect(users.update.mock.calls[0][1]).toEqual({ role: 'viewer', status: 'disabled' });
    });

    it.each([
      ['a null role', { role: null }, ['role']],
      ['a null status', { status: null }, ['status']],
      ['both null', { role: null, status: null }, ['role', 'status']],
      ['an unknown role', { role: 'root' }, ['role']],
      ['a field named constructor', { role: 'viewer', constructor: 'x' }, ['constructor']],
      ['a field named toString', { toString: 'x' }, ['toString']],
      ['a field named valueOf', { valueOf: 1 }, ['valueOf']],
      ['a field named hasOwnProperty', { hasOwnProperty: true }, ['hasOwnProperty']],
    ])('should answer 400 for %s, never reaching the database', async (_case, payload, fields) => {
      const response = await app.inject({ method: 'PATCH', url: URL, payload });

      expect(response.statusCode).toBe(400);
      expect(response.json()).toEqual(VALIDATION_ERROR);
      expect(fieldsOf(response)).toEqual(fields);
      expectNoServiceCalled();
    });

    it('should refuse a body nested too deep with 400, not a stack overflow', async () => {
      const response = await app.inject({
        method: 'PATCH',
        url: URL,
        headers: { 'content-type': 'application/json' },
        payload: `{"role":${'['.repeat(2400)}${']'.repeat(2400)}}`,
      });

      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({
        ...VALIDATION_ERROR,
        fields: [{ field: '(body)', errors: ['the body is nested deeper than 32 levels'] }],
      });
      expectNoServiceCalled();
    });
  });

  describe('POST /api/v1/users', () => {
    it('should say a body is required when an empty JSON body came', async () => {
      const response = await app.inject({
        method: 'POST',
        url: '/api/v1/users',
        headers: { 'content-type': 'application/json' },
        payload: '',
      });

      expect(response.statusCode).toBe(400);
      expect(response.json().message).toMatch(
        /^Validation failed: \(body\) \(a JSON body is required\)/,
      );
      expect(fieldsOf(response)).toEqual(['(body)', 'email', 'password', 'role']);
      expectNoServiceCalled();
    });
  });

  describe('DELETE /api/v1/users/:id', () => {
    it('should take an empty JSON body on a route that needs none', async () => {
      users.remove.mockResolvedValueOnce(undefined);

      const response = await app.inject({
        method: 'DELETE',
        url: URL,
        headers: { 'content-type': 'application/json' },
        payload: '',
      });

      expect(response.statusCode).toBe(204);
      expect(users.remove).toHaveBeenCalledTimes(1);
    });
  });

  describe('GET /api/v1/users', () => {
    it('should pass the limit and a cursor of a previous page on', async () => {
      const cursor = USER_CURSOR.encode('ada@example.com');
      users.list.mockResolvedValueOnce({ items: [user()], nextCursor: null });

      const response = await app.inject({
        method: 'GET',
        url: '/api/v1/users',
        query: { limit: '10', cursor },
      });

      expect(response.statusCode).toBe(200);
      expect(users.list).toHaveBeenCalledWith(10, cursor);
    });

    it.each([
      ['a garbage cursor', 'cursor=garbage', 'cursor'],
      ['a raw e-mail as the cursor', 'cursor=ada%40example.com', 'cursor'],
      ['a cursor of another list', 'cursor=Y3JlZGVudGlhbHM6YWNtZQ', 'cursor'],
      ['a limit of 0', 'limit=0', 'limit'],
      ['an unknown parameter', 'sort=email', 'sort'],
      ['a parameter named constructor', 'constructor=1', 'constructor'],
    ])('should answer 400 for %s', async (_case, query, field) => {
      const response = await app.inject({ method: 'GET', url: `/api/v1/users?${query}` });

      expect(response.statusCode).toBe(400);
      expect(fieldsOf(response)).toEqual([field]);
      expectNoServiceCalled();
    });
  });
});
