import { NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  actingAs,
  createControllerApp,
  strictFn,
  VALIDATION_ERROR,
} from '../../../test/helpers/controller-app';
import { AuditRequestContext } from '../../audit/audit-context';
import { ConflictError } from '../auth.errors';
import { ROLES } from '../../common/auth/auth.decorators';
import type { Principal } from '../../common/auth/principal';
import { AccessGrant } from './access-grant.entity';
import { GrantCreateDto, GrantListQueryDto } from './dto/grant.dto';
import { GrantNotFoundError, GrantPrincipalNotFoundError } from './grant.errors';
import { GrantsController } from './grants.controller';
import { GrantsService } from './grants.service';

const ADMIN: Principal = {
  type: 'user',
  id: '9c2d4e6f-8a0b-4c1d-9e2f-3a4b5c6d7e8f',
  email: 'admin@example.com',
  role: 'admin',
  mustChangePassword: false,
  mfaEnabled: false,
};
const GRANT_ID = '3f1f6f0f-2a11-4c1e-9a57-5b8f3c2e0d7a';
const USER_ID = '0b9f6a3e-4f0c-4d59-9a3e-1f2b3c4d5e6f';

function grant(overrides: Partial<AccessGrant> = {}): AccessGrant {
  return Object.assign(new AccessGrant(), {
    id: GRANT_ID,
    principalType: 'user',
    principalId: USER_ID,
    pathPattern: 'acme/prod/*',
    capabilities: 'read,reveal',
    createdBy: ADMIN.id,
    createdAt: new Date('2025-01-02T03:04:05.000Z'),
    ...overrides,
  });
}

const GRANT_BODY = {
  id: GRANT_ID,
  principalType: 'user',
  principalId: USER_ID,
  pathPattern: 'acme/prod/*',
  capabilities: ['read', 'reveal'],
  createdBy: ADMIN.id,
  createdAt: '2025-01-02T03:04:05.000Z',
};

const VALID = {
  principalType: 'user',
  principalId: USER_ID,
  pathPattern: 'acme/prod/*',
  capabilities: ['read', 'reveal'],
};

describe('GrantsController', () => {
  let app: NestFastifyApplication;
  const grants = {
    create: strictFn('GrantsService.create'),
    list: strictFn('GrantsService.list'),
    get: strictFn('GrantsService.get'),
    remove: strictFn('GrantsService.remove'),
  };
  let lastContext: AuditRequestContext | undefined;

  beforeAll(async () => {
    app = await createControllerApp(
      {
        controllers: [GrantsController],
        providers: [{ provide: GrantsService, useValue: grants }],
      },
      {
        beforeInit: actingAs(
          () => ADMIN,
          (context) => (lastContext = context),
        ),
      },
    );
  });

  afterAll(async () => {
    await app?.close();
  });

  beforeEach(() => {
    jest.clearAllMocks();
    lastContext = undefined;
  });

  it('should be for admins only', () => {
    expect(Reflect.getMetadata(ROLES, GrantsController)).toEqual(['admin']);
  });

  describe('POST /api/v1/grants', () => {
    it('should pass the validated body, the creator and the audit context to the service', async () => {
      grants.create.mockResolvedValueOnce(grant());

      const response = await app.inject({ method: 'POST', url: '/api/v1/grants', payload: VALID });

      expect(response.statusCode).toBe(201);
      expect(response.json()).toEqual(GRANT_BODY);
      expect(grants.create).toHaveBeenCalledTimes(1);
      const [body, creator, context] = grants.create.mock.calls[0] as [
        GrantCreateDto,
        Principal,
        AuditRequestContext,
      ];
      expect(body).toBeInstanceOf(GrantCreateDto);
      expect(body).toEqual(VALID);
      expect(creator).toEqual(ADMIN);
      expect(context).toBe(lastContext);
    });

    it.each([
      ['service account principal', { principalType: 'service_account' }],
      ['pattern ending in **', { pathPattern: 'acme/**' }],
      ['pattern that is only **', { pathPattern: '**' }],
      [
        'list of every capability',
        { capabilities: ['read', 'reveal', 'write', 'rotate', 'delete'] },
      ],
    ])('should accept a %s', async (_case, change) => {
      grants.create.mockResolvedValueOnce(grant());

      const response = await app.inject({
        method: 'POST',
        url: '/api/v1/grants',
        payload: { ...VALID, ...change },
      });

      expect(response.statusCode).toBe(201);
      expect(grants.create).toHaveBeenCalledWith(
        expect.objectContaining(change),
        ADMIN,
        expect.any(AuditRequestContext),
      );
    });

    it.each([
      ['an unknown field', { ...VALID, createdBy: USER_ID }, 'createdBy'],
      ['an empty capabilities list', { ...VALID, capabilities: [] }, 'capabilities'],
      ['an unknown capability', { ...VALID, capabilities: ['read', 'admin'] }, 'capabilities'],
      ['a capability in upper case', { ...VALID, capabilities: ['READ'] }, 'capabilities'],
      ['a duplicate capability', { ...VALID, capabilities: ['read', 'read'] }, 'capabilities'],
      ['capabilities as a string', { ...VALID, capabilities: 'read' }, 'capabilities'],
      ['missing capabilities', { ...VALID, capabilities: undefined }, 'capabilities'],
      ['a bad principalType', { ...VALID, principalType: 'group' }, 'principalType'],
      ['the principalType "service"', { ...VALID, principalType: 'service' }, 'principalType'],
      ['a non-uuid principalId', { ...VALID, principalId: 'usr_1' }, 'principalId'],
      ['an object as principalId', { ...VALID, principalId: { id: USER_ID } }, 'principalId'],
      ['an invalid pattern with ** inside', { ...VALID, pathPattern: 'a/**/b' }, 'pathPattern'],
      ['an invalid pattern with upper case', { ...VALID, pathPattern: 'A/b' }, 'pathPattern'],
      ['an invalid pattern with a partial *', { ...VALID, pathPattern: 'a/b*' }, 'pathPattern'],
      ['an invalid pattern with ..', { ...VALID, pathPattern: '../x' }, 'pathPattern'],
      ['an empty pattern', { ...VALID, pathPattern: '' }, 'pathPattern'],
      ['a pattern of /', { ...VALID, pathPattern: '/' }, 'pathPattern'],
      [
        'a pattern longer than 255',
        { ...VALID, pathPattern: `${'ab/'.repeat(85)}abc` },
        'pathPattern',
      ],
      ['a pattern that is not a string', { ...VALID, pathPattern: ['acme'] }, 'pathPattern'],
    ])(
      'should answer 400 naming the field for %s without calling the service',
      async (_case, payload, field) => {
        const response = await app.inject({ method: 'POST', url: '/api/v1/grants', payload });

        expect(response.statusCode).toBe(400);
        const body = response.json();
        expect(body).toEqual(VALIDATION_ERROR);
        expect(body.fields).toEqual([{ field, errors: expect.any(Array) }]);
        expect(grants.create).not.toHaveBeenCalled();
      },
    );

    it('should say what is wrong with an invalid pattern', async () => {
      const response = await app.inject({
        method: 'POST',
        url: '/api/v1/grants',
        payload: { ...VALID, pathPattern: 'acme/**/db' },
      });

      expect(response.statusCode).toBe(400);
      expect(response.json().fields).toEqual([
        {
          field: 'pathPattern',
          errors: [
            "pathPattern is not a valid path pattern: '**' is allowed only as the last segment (found at segment 2)",
          ],
        },
      ]);
    });

    it('should answer 400 for a body that is not an object', async () => {
      const response = await app.inject({
        method: 'POST',
        url: '/api/v1/grants',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify(['acme/**']),
      });

      expect(response.statusCode).toBe(400);
      expect(grants.create).not.toHaveBeenCalled();
    });

    it.each([
      ['user', new GrantPrincipalNotFoundError('user'), 'User not found'],
      [
        'service account',
        new GrantPrincipalNotFoundError('service_account'),
        'Service account not found',
      ],
    ])('should answer 404 when the %s does not exist', async (_case, error, message) => {
      grants.create.mockRejectedValueOnce(error);

      const response = await app.inject({ method: 'POST', url: '/api/v1/grants', payload: VALID });

      expect(response.statusCode).toBe(404);
      expect(response.json()).toEqual({
        statusCode: 404,
        error: 'Not Found',
        message,
        requestId: expect.any(String),
      });
    });

    it('should answer 409 when the principal has a grant for the pattern', async () => {
      grants.create.mockRejectedValueOnce(new ConflictError('exists'));

      const response = await app.inject({ method: 'POST', url: '/api/v1/grants', payload: VALID });

      expect(response.statusCode).toBe(409);
    });
  });

  describe('GET /api/v1/grants', () => {
    it('should pass the filters and answer one page without a cursor', async () => {
      grants.list.mockResolvedValueOnce([
        grant(),
        grant({ id: USER_ID, capabilities: 'delete,read' }),
      ]);

      const response = await app.inject({
        method: 'GET',
        url: '/api/v1/grants',
        query: { principalType: 'user', principalId: USER_ID },
      });

      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({
        items: [GRANT_BODY, { ...GRANT_BODY, id: USER_ID, capabilities: ['read', 'delete'] }],
        nextCursor: null,
      });
      const [query] = grants.list.mock.calls[0] as [GrantListQueryDto];
      expect(query).toBeInstanceOf(GrantListQueryDto);
      expect(query).toEqual({ principalType: 'user', principalId: USER_ID });
    });

    it('should list every grant without filters', async () => {
      grants.list.mockResolvedValueOnce([]);

      const response = await app.inject({ method: 'GET', url: '/api/v1/grants' });

      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({ items: [], nextCursor: null });
      expect(grants.list.mock.calls[0][0]).toEqual({});
    });

    it.each([
      ['an unknown principalType', 'principalType=group', 'principalType'],
      ['a non-uuid principalId', 'principalId=usr_1', 'principalId'],
      ['an unknown query parameter', 'pathPattern=acme', 'pathPattern'],
    ])('should answer 400 for %s', async (_case, query, field) => {
      const response = await app.inject({ method: 'GET', url: `/api/v1/grants?${query}` });

      expect(response.statusCode).toBe(400);
      expect(response.json()).toEqual({
        ...VALIDATION_ERROR,
        fields: [{ field, errors: expect.any(Array) }],
      });
      expect(grants.list).not.toHaveBeenCalled();
    });
  });

  describe('GET /api/v1/grants/:id', () => {
    it('should answer the grant', async () => {
      grants.get.mockResolvedValueOnce(grant());

      const response = await app.inject({ method: 'GET', url: `/api/v1/grants/${GRANT_ID}` });

      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual(GRANT_BODY);
      expect(grants.get).toHaveBeenCalledWith(GRANT_ID);
    });

    it('should answer 404 when it does not exist', async () => {
      grants.get.mockRejectedValueOnce(new GrantNotFoundError());

      const response = await app.inject({ method: 'GET', url: `/api/v1/grants/${GRANT_ID}` });

      expect(response.statusCode).toBe(404);
      expect(response.json()).toMatchObject({ statusCode: 404, message: 'Grant not found' });
    });

    it.each([['not-a-uuid'], ['3f1f6f0f-2a11-1c1e-9a57-5b8f3c2e0d7a'], ['%27%20OR%201%3D1']])(
      'should reject a bad id: %s',
      async (id) => {
        const response = await app.inject({ method: 'GET', url: `/api/v1/grants/${id}` });

        expect(response.statusCode).toBe(400);
        expect(response.json()).toMatchObject({ statusCode: 400, requestId: expect.any(String) });
        expect(grants.get).not.toHaveBeenCalled();
      },
    );
  });

  describe('DELETE /api/v1/grants/:id', () => {
    it('should answer 204 with no body and pass the audit context', async () => {
      grants.remove.mockResolvedValueOnce(undefined);

      const response = await app.inject({ method: 'DELETE', url: `/api/v1/grants/${GRANT_ID}` });

      expect(response.statusCode).toBe(204);
      expect(response.body).toBe('');
      expect(grants.remove).toHaveBeenCalledWith(GRANT_ID, lastContext);
    });

    it('should answer 404 when it does not exist', async () => {
      grants.remove.mockRejectedValueOnce(new GrantNotFoundError());

      const response = await app.inject({ method: 'DELETE', url: `/api/v1/grants/${GRANT_ID}` });

      expect(response.statusCode).toBe(404);
    });

    it('should reject a bad id', async () => {
      const response = await app.inject({ method: 'DELETE', url: '/api/v1/grants/42' });

      expect(response.statusCode).toBe(400);
      expect(grants.remove).not.toHaveBeenCalled();
    });
  });
});
