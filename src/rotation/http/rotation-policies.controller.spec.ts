import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DataSource } from 'typeorm';
import {
  createControllerApp,
  strictFn,
  VALIDATION_ERROR,
} from '../../../test/helpers/controller-app';
import {
  bearerOf,
  realAuthGuard,
  serviceKeyOf,
  STUB_USERS,
  userIdOf,
} from '../../../test/helpers/guard-stubs';
import { IS_PUBLIC } from '../../common/auth/auth.decorators';
import { RotationPolicy } from '../entities/rotation-policy.entity';
import { PATTERN_POLICY_CURSOR } from '../policy/dto/pattern-policy-query.dto';
import { PatternPolicyWriteDto } from '../policy/dto/rotation-policy-write.dto';
import { PatternPolicyService } from '../policy/pattern-policy.service';
import { RotationPolicyNotFoundError } from '../policy/rotation-policy.errors';
import { RotationPoliciesController } from './rotation-policies.controller';

const POLICY_ID = '6f0c2a1e-3b4d-4e5f-8a9b-0c1d2e3f4a5b';
const BASE = '/api/v1/rotation-policies';
const BODY = {
  pathPattern: 'acme/prod/**',
  enabled: true,
  interval: 'P30D',
  gracePeriod: 'PT24H',
  rotator: { kind: 'generated' },
  generator: { format: 'api_key', length: 40, prefix: 'ck_' },
  endGraceOnFullAdoption: true,
};

function policy(): RotationPolicy {
  return Object.assign(new RotationPolicy(), {
    id: POLICY_ID,
    credentialId: null,
    pathPattern: 'acme/prod/**',
    enabled: true,
    rotateEvery: 'P30D',
    schedule: null,
    window: { days: ['sat'], start: '02:00', duration: 'PT4H' },
    gracePeriod: null,
    offset: null,
    rotator: { kind: 'generated' },
    generator: { format: 'api_key', length: 40, prefix: 'ck_' },
    endGraceOnFullAdoption: true,
    createdBy: userIdOf('admin'),
    createdAt: new Date('2026-11-01T00:00:00.000Z'),
    updatedAt: new Date('2026-11-02T00:00:00.000Z'),
  });
}

const POLICY_BODY = {
  id: POLICY_ID,
  pathPattern: 'acme/prod/**',
  enabled: true,
  interval: 'P30D',
  schedule: null,
  window: { days: ['sat'], start: '02:00', duration: 'PT4H' },
  gracePeriod: null,
  offset: null,
  rotator: { kind: 'generated' },
  generator: { format: 'api_key', length: 40, prefix: 'ck_' },
  endGraceOnFullAdoption: true,
  createdBy: userIdOf('admin'),
  createdAt: '2026-11-01T00:00:00.000Z',
  updatedAt: '2026-11-02T00:00:00.000Z',
};

type Route = { method: 'GET' | 'PUT' | 'DELETE'; url: string; payload?: unknown };
const ROUTES: Record<string, Route> = {
  put: { method: 'PUT', url: BASE, payload: BODY },
  list: { method: 'GET', url: BASE },
  get: { method: 'GET', url: `${BASE}/${POLICY_ID}` },
  remove: { method: 'DELETE', url: `${BASE}/${POLICY_ID}` },
};

describe('RotationPoliciesController behind the AuthGuard', () => {
  let app: NestFastifyApplication;
  const policies = {
    put: strictFn('PatternPolicyService.put'),
    list: strictFn('PatternPolicyService.list'),
    get: strictFn('PatternPolicyService.get'),
    remove: strictFn('PatternPolicyService.remove'),
  };

  beforeAll(async () => {
    app = await createControllerApp({
      controllers: [RotationPoliciesController],
      providers: [
        { provide: PatternPolicyService, useValue: policies },
        { provide: DataSource, useValue: { getRepository: () => STUB_USERS } },
        ...realAuthGuard(),
      ],
    });
  });

  afterAll(async () => {
    await app?.close();
  });

  beforeEach(() => jest.clearAllMocks());

  function expectNoServiceCalled(): void {
    for (const method of Object.values(policies)) expect(method).not.toHaveBeenCalled();
  }

  const call = (route: Route, headers: Record<string, string>) =>
    app.inject({ method: route.method, url: route.url, payload: route.payload as object, headers });

  it('should mark no route public', () => {
    for (const name of Object.keys(ROUTES)) {
      const handler =
        RotationPoliciesController.prototype[name as keyof RotationPoliciesController];
      expect([name, Reflect.getMetadata(IS_PUBLIC, handler)]).toEqual([name, undefined]);
    }
  });

  it.each(Object.entries(ROUTES))('should require authentication on %s', async (_name, route) => {
    const response = await call(route, {});

    expect(response.statusCode).toBe(401);
    expectNoServiceCalled();
  });

  it.each([
    ['put', 'an operator', bearerOf('operator')],
    ['put', 'an auditor', bearerOf('auditor')],
    ['put', 'a viewer', bearerOf('viewer')],
    ['put', 'a service account', serviceKeyOf('deployer')],
    ['list', 'a viewer', bearerOf('viewer')],
    ['list', 'a service account', serviceKeyOf('deployer')],
    ['get', 'a viewer', bearerOf('viewer')],
    ['get', 'a service account', serviceKeyOf('deployer')],
    ['remove', 'an operator', bearerOf('operator')],
    ['remove', 'an auditor', bearerOf('auditor')],
    ['remove', 'a viewer', bearerOf('viewer')],
    ['remove', 'a service account', serviceKeyOf('deployer')],
  ])('should refuse %s to %s with 403', async (name, _who, headers) => {
    const response = await call(ROUTES[name], headers);

    expect(response.statusCode).toBe(403);
    expect(response.json()).toMatchObject({ statusCode: 403, message: 'Not allowed' });
    expectNoServiceCalled();
  });

  describe('PUT /api/v1/rotation-policies', () => {
    it('should pass the validated body and the admin, and answer the stored policy', async () => {
      policies.put.mockResolvedValueOnce({ policy: policy(), warnings: [] });

      const response = await call(ROUTES.put, bearerOf('admin'));

      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({ ...POLICY_BODY, warnings: [] });
      const [body, principal] = policies.put.mock.calls[0] as [PatternPolicyWriteDto, unknown];
      expect(body).toBeInstanceOf(PatternPolicyWriteDto);
      expect(body).toEqual(BODY);
      expect(principal).toMatchObject({ type: 'user', id: userIdOf('admin'), role: 'admin' });
    });

    it.each([
      ['no pathPattern', { ...BODY, pathPattern: undefined }, 'pathPattern'],
      ['a bad pathPattern', { ...BODY, pathPattern: 'acme/**/db' }, 'pathPattern'],
      ['an unknown field', { ...BODY, credentialId: POLICY_ID }, 'credentialId'],
      ['both interval and schedule', { ...BODY, schedule: '0 3 * * *' }, 'schedule'],
      ['an interval under a minute', { ...BODY, interval: 'PT30S' }, 'interval'],
      [
        'a null endGraceOnFullAdoption',
        { ...BODY, endGraceOnFullAdoption: null },
        'endGraceOnFullAdoption',
      ],
      [
        'a string endGraceOnFullAdoption',
        { ...BODY, endGraceOnFullAdoption: 'yes' },
        'endGraceOnFullAdoption',
      ],
      [
        'a window under an hour',
        { ...BODY, window: { start: '02:00', duration: 'PT30M' } },
        'window.duration',
      ],
    ])('should answer 400 for %s without calling the service', async (_case, payload, field) => {
      const response = await app.inject({
        method: 'PUT',
        url: BASE,
        payload,
        headers: bearerOf('admin'),
      });

      expect(response.statusCode).toBe(400);
      expect(response.json()).toEqual({
        ...VALIDATION_ERROR,
        fields: [{ field, errors: expect.any(Array) }],
      });
      expectNoServiceCalled();
    });
  });

  describe('GET /api/v1/rotation-policies', () => {
    it.each([
      ['an admin', 'admin'],
      ['an operator', 'operator'],
      ['an auditor', 'auditor'],
    ] as const)('should answer a page to %s', async (_who, role) => {
      policies.list.mockResolvedValueOnce({ items: [policy()], nextCursor: 'next' });

      const response = await app.inject({
        method: 'GET',
        url: `${BASE}?limit=1&cursor=${PATTERN_POLICY_CURSOR.encode('acme/**')}`,
        headers: bearerOf(role),
      });

      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({ items: [POLICY_BODY], nextCursor: 'next' });
      expect(policies.list).toHaveBeenCalledWith({
        limit: 1,
        cursor: PATTERN_POLICY_CURSOR.encode('acme/**'),
      });
    });

    it.each([
      ['a limit over 500', 'limit=501', 'limit'],
      ['a cursor of another list', 'cursor=garbage', 'cursor'],
      ['an unknown parameter', 'pathPattern=acme', 'pathPattern'],
    ])('should answer 400 for %s', async (_case, query, field) => {
      const response = await app.inject({
        method: 'GET',
        url: `${BASE}?${query}`,
        headers: bearerOf('admin'),
      });

      expect(response.statusCode).toBe(400);
      expect(response.json().fields).toEqual([{ field, errors: expect.any(Array) }]);
      expectNoServiceCalled();
    });
  });

  describe('GET /api/v1/rotation-policies/:id', () => {
    it.each(['admin', 'operator', 'auditor'] as const)(
      'should answer the policy to %s',
      async (role) => {
        policies.get.mockResolvedValueOnce(policy());

        const response = await call(ROUTES.get, bearerOf(role));

        expect(response.statusCode).toBe(200);
        expect(response.json()).toEqual(POLICY_BODY);
        expect(policies.get).toHaveBeenCalledWith(POLICY_ID);
      },
    );

    it('should reject a bad id', async () => {
      const response = await app.inject({
        method: 'GET',
        url: `${BASE}/42`,
        headers: bearerOf('admin'),
      });

      expect(response.statusCode).toBe(400);
      expectNoServiceCalled();
    });

    it('should answer 404 for a policy that does not exist', async () => {
      policies.get.mockRejectedValueOnce(new RotationPolicyNotFoundError());

      const response = await call(ROUTES.get, bearerOf('auditor'));

      expect(response.statusCode).toBe(404);
      expect(response.json().message).toBe('Rotation policy not found');
    });
  });

  describe('DELETE /api/v1/rotation-policies/:id', () => {
    it('should delete for an admin and answer 204', async () => {
      policies.remove.mockResolvedValueOnce(undefined);

      const response = await call(ROUTES.remove, bearerOf('admin'));

      expect(response.statusCode).toBe(204);
      expect(response.body).toBe('');
      expect(policies.remove).toHaveBeenCalledWith(POLICY_ID, undefined);
    });

    it('should reject a bad id', async () => {
      const response = await app.inject({
        method: 'DELETE',
        url: `${BASE}/not-a-uuid`,
        headers: bearerOf('admin'),
      });

      expect(response.statusCode).toBe(400);
      expectNoServiceCalled();
    });
  });
});
