import { APP_GUARD } from '@nestjs/core';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DataSource } from 'typeorm';
import { createControllerApp, strictFn, VALIDATION_ERROR } from '../../test/helpers/controller-app';
import { InvalidTokenError } from '../auth/auth.errors';
import { AuthGuard } from '../auth/guards/auth.guard';
import { ApiKeyAuthenticator } from '../auth/service-accounts/api-key-authenticator';
import { ApiKeyStrategy } from '../auth/strategies/api-key.strategy';
import { JwtStrategy } from '../auth/strategies/jwt.strategy';
import { AccessClaims, TokenService } from '../auth/sessions/token.service';
import { User } from '../auth/users/user.entity';
import type { Role } from '../common/auth/access-vocabulary';
import { authConfig } from '../config/auth.config';
import type { AuditEventRecord } from './audit-event.record';
import { AuditQueryService } from './audit-query.service';
import { AuditVerificationService } from './audit-verification.service';
import { AuditController } from './audit.controller';
import { AuditEventFilterDto, AuditEventQueryDto } from './dto/audit-event-query.dto';

/** An `audit.checkpoint` line as a sink receives it. */
const CHECKPOINT_LINE = {
  type: 'audit.checkpoint',
  id: '7',
  createdAt: '2026-11-02T03:04:05.678Z',
  headSeq: '3',
  lanes: [
    { lane: 0, laneSeq: '2', seq: '3', hash: 'ab'.repeat(32) },
    { lane: 1, laneSeq: '0', seq: null, hash: null },
  ],
  keyId: 'k1',
  algorithm: 'Ed25519',
  signature: `${'A'.repeat(86)}==`,
};

function event(seq: string, action = 'credential.reveal'): AuditEventRecord {
  return {
    seq,
    occurredAt: '2025-01-02T03:04:05.000Z',
    actor: { type: 'user', id: 'usr_1', display: 'Ada' },
    ip: '127.0.0.1',
    userAgent: 'jest',
    requestId: `req-${seq}`,
    action,
    resource: { type: 'credential', id: 'cus_1' },
    outcome: 'success',
    httpStatus: 200,
    details: {},
    chain: { lane: 0, laneSeq: seq, keyId: 'k1', prevHash: null, hash: 'ab'.repeat(32) },
  };
}

describe('AuditController', () => {
  let app: NestFastifyApplication;
  const queries = {
    list: strictFn('AuditQueryService.list'),
    export: strictFn('AuditQueryService.export'),
  };
  const verification = {
    verify: strictFn('AuditVerificationService.verify'),
    publicKeys: strictFn('AuditVerificationService.publicKeys'),
  };

  beforeAll(async () => {
    app = await createControllerApp({
      controllers: [AuditController],
      providers: [
        { provide: AuditQueryService, useValue: queries },
        { provide: AuditVerificationService, useValue: verification },
      ],
    });
  });

  afterAll(async () => {
    await app?.close();
  });

  beforeEach(() => {
    jest.clearAllMocks();
  });

  describe('GET /api/v1/audit/events', () => {
    it('should pass the parsed filters to the service and answer its page', async () => {
      const page = { items: [event('42'), event('41')], nextCursor: '41' };
      queries.list.mockResolvedValueOnce(page);

      const response = await app.inject({
        method: 'GET',
        url: '/api/v1/audit/events',
        query: {
          limit: '25',
          cursor: '1234',
          action: 'credential.',
          outcome: 'denied',
          from: '2025-01-01T00:00:00Z',
          to: '2025-02-01T00:00:00.000Z',
          actorId: 'usr_1',
          actorType: 'user',
          resourceType: 'credential',
          resourceId: 'cus_1',
          order: 'asc',
        },
      });

      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual(page);
      expect(queries.list).toHaveBeenCalledTimes(1);
      const [query] = queries.list.mock.calls[0] as [AuditEventQueryDto];
      expect(query).toBeInstanceOf(AuditEventQueryDto);
      expect(typeof query.limit).toBe('number');
      expect(query).toEqual({
        limit: 25,
        cursor: '1234',
        action: 'credential.',
        outcome: 'denied',
        from: '2025-01-01T00:00:00Z',
        to: '2025-02-01T00:00:00.000Z',
        actorId: 'usr_1',
        actorType: 'user',
        resourceType: 'credential',
        resourceId: 'cus_1',
        order: 'asc',
      });
    });

    it('should pass no filters when none are given', async () => {
      queries.list.mockResolvedValueOnce({ items: [], nextCursor: null });

      const response = await app.inject({ method: 'GET', url: '/api/v1/audit/events' });

      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({ items: [], nextCursor: null });
      const [query] = queries.list.mock.calls[0] as [AuditEventQueryDto];
      // toEqual: declared but absent fields are undefined, not missing.
      expect(query).toEqual({});
    });

    it.each([
      ['limit of 0', 'limit=0', 'limit'],
      ['limit above 500', 'limit=501', 'limit'],
      ['limit that is not a number', 'limit=abc', 'limit'],
      ['limit that is not an integer', 'limit=1.5', 'limit'],
      ['cursor that is not a sequence number', 'cursor=x1', 'cursor'],
      ['cursor longer than 19 digits', `cursor=${'9'.repeat(20)}`, 'cursor'],
      ['unknown outcome', 'outcome=maybe', 'outcome'],
      ['unknown actor type', 'actorType=robot', 'actorType'],
      ['from that is not ISO 8601', 'from=yesterday', 'from'],
      ['to that is not a real date', 'to=2025-02-30', 'to'],
      ['LIKE wildcard as action', 'action=%25', 'action'],
      ['action with upper case', 'action=Credential.', 'action'],
      ['unknown query parameter', 'sort=seq', 'sort'],
      ['actorId longer than 64 characters', `actorId=${'a'.repeat(65)}`, 'actorId'],
      ['resourceId longer than 191 characters', `resourceId=${'r'.repeat(192)}`, 'resourceId'],
      ['unknown order', 'order=random', 'order'],
    ])(
      'should answer 400 naming the field for a %s without calling the service',
      async (_case, query, field) => {
        const response = await app.inject({ method: 'GET', url: `/api/v1/audit/events?${query}` });

        expect(response.statusCode).toBe(400);
        expect(response.headers['content-type']).toMatch(/^application\/json/);
        const body = response.json();
        expect(body).toEqual(VALIDATION_ERROR);
        expect(body.fields).toEqual([{ field, errors: expect.any(Array) }]);
        expect(body.message).toContain(field);
        expect(queries.list).not.toHaveBeenCalled();
      },
    );

    it('should list every wrong field of a request at once', async () => {
      const response = await app.inject({
        method: 'GET',
        url: '/api/v1/audit/events?limit=0&outcome=maybe&sort=seq',
      });

      expect(response.statusCode).toBe(400);
      expect(
        response
          .json()
          .fields.map((f: { field: string }) => f.field)
          .sort(),
      ).toEqual(['limit', 'outcome', 'sort']);
      expect(queries.list).not.toHaveBeenCalled();
    });

    it('should answer a generic 500 without the cause when the service fails', async () => {
      queries.list.mockRejectedValueOnce(new Error('SELECT * FROM audit_events: connection lost'));

      const response = await app.inject({ method: 'GET', url: '/api/v1/audit/events' });

      expect(response.statusCode).toBe(500);
      expect(response.json()).toEqual({
        statusCode: 500,
        error: 'Internal Server Error',
        message: 'Internal server error',
        requestId: expect.any(String),
      });
    });
  });

  describe('GET /api/v1/audit/events/export', () => {
    it('should stream one JSON line per event as NDJSON', async () => {
      const events = [event('1'), event('2', 'audit.verify'), event('3')];
      queries.export.mockImplementationOnce(async function* () {
        for (const e of events) {
          await Promise.resolve();
          yield e;
        }
      });

      const response = await app.inject({
        method: 'GET',
        url: '/api/v1/audit/events/export?action=credential.&outcome=success',
      });

      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toBe('application/x-ndjson; charset=utf-8');
      expect(response.headers['content-disposition']).toBe(
        'attachment; filename="custos-audit.ndjson"',
      );
      expect(response.body.endsWith('\n')).toBe(true);
      const lines = response.body.split('\n').slice(0, -1);
      expect(lines.map((line) => JSON.parse(line) as unknown)).toEqual(events);
      const [filter] = queries.export.mock.calls[0] as [AuditEventFilterDto];
      expect(filter).toBeInstanceOf(AuditEventFilterDto);
      expect(filter).toEqual({ action: 'credential.', outcome: 'success' });
    });

    it('should answer a plain 500, not a download, when the first read fails', async () => {
      queries.export.mockImplementationOnce(async function* () {
        await Promise.resolve();
        throw new Error('connection lost');
        yield event('never');
      });

      const response = await app.inject({ method: 'GET', url: '/api/v1/audit/events/export' });

      expect(response.statusCode).toBe(500);
      expect(response.headers['content-disposition']).toBeUndefined();
      expect(response.body).not.toContain('connection lost');
    });

    it('should end a stream cut off mid-way with an error line', async () => {
      queries.export.mockImplementationOnce(async function* () {
        yield event('1');
        await Promise.resolve();
        throw new Error('connection lost');
      });

      const response = await app.inject({ method: 'GET', url: '/api/v1/audit/events/export' });

      const lines = response.body
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { type?: string });
      expect(lines).toHaveLength(2);
      expect(lines[1]).toMatchObject({ type: 'error' });
      expect(response.body).not.toContain('connection lost');
    });

    it('should answer an empty body when no event matches', async () => {
      queries.export.mockImplementationOnce(async function* () {});

      const response = await app.inject({ method: 'GET', url: '/api/v1/audit/events/export' });

      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toBe('application/x-ndjson; charset=utf-8');
      expect(response.body).toBe('');
    });

    it.each([
      ['unknown outcome', 'outcome=maybe', 'outcome'],
      ['from that is not ISO 8601', 'from=yesterday', 'from'],
      ['LIKE wildcard as action', 'action=%25', 'action'],
      // The export takes no page: limit and cursor belong to the list only.
      ['limit', 'limit=10', 'limit'],
      ['cursor', 'cursor=10', 'cursor'],
    ])('should answer 400 for a %s without calling the service', async (_case, query, field) => {
      const response = await app.inject({
        method: 'GET',
        url: `/api/v1/audit/events/export?${query}`,
      });

      expect(response.statusCode).toBe(400);
      expect(response.json()).toEqual({
        ...VALIDATION_ERROR,
        fields: [{ field, errors: expect.any(Array) }],
      });
      expect(queries.export).not.toHaveBeenCalled();
    });
  });

  describe('POST /api/v1/audit/verify', () => {
    it('should answer 200 with the result of an intact chain', async () => {
      const result = { ok: true, verified: 1200, headSeq: '1200' };
      verification.verify.mockResolvedValueOnce(result);

      const response = await app.inject({ method: 'POST', url: '/api/v1/audit/verify' });

      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual(result);
      expect(verification.verify).toHaveBeenCalledTimes(1);
      expect(verification.verify).toHaveBeenCalledWith(undefined);
    });

    it('should pass a checkpoint given in the body to the service, typed', async () => {
      verification.verify.mockResolvedValueOnce({ ok: true, verified: 3, headSeq: '3' });

      const response = await app.inject({
        method: 'POST',
        url: '/api/v1/audit/verify',
        payload: { checkpoint: CHECKPOINT_LINE },
      });

      expect(response.statusCode).toBe(200);
      expect(verification.verify).toHaveBeenCalledWith({
        id: '7',
        createdAt: new Date('2026-11-02T03:04:05.678Z'),
        headSeq: '3',
        lanes: [
          { lane: 0, laneSeq: '2', seq: '3', hash: 'ab'.repeat(32) },
          { lane: 1, laneSeq: '0', seq: null, hash: null },
        ],
        keyId: 'k1',
        algorithm: 'Ed25519',
        signature: CHECKPOINT_LINE.signature,
      });
    });

    it('should take a checkpoint line without an algorithm as a legacy HMAC one', async () => {
      verification.verify.mockResolvedValueOnce({ ok: true, verified: 3, headSeq: '3' });
      const legacy: Partial<typeof CHECKPOINT_LINE> = { ...CHECKPOINT_LINE };
      delete legacy.algorithm;

      const response = await app.inject({
        method: 'POST',
        url: '/api/v1/audit/verify',
        payload: { checkpoint: { ...legacy, signature: 'cd'.repeat(32) } },
      });

      expect(response.statusCode).toBe(200);
      expect(verification.verify).toHaveBeenCalledWith(
        expect.objectContaining({ algorithm: 'HMAC-SHA256', signature: 'cd'.repeat(32) }),
      );
    });

    it.each([
      [
        'a checkpoint that is a string',
        { checkpoint: JSON.stringify(CHECKPOINT_LINE) },
        'checkpoint',
      ],
      ['an unknown field', { checkpoint: CHECKPOINT_LINE, force: true }, 'force'],
      [
        'an unknown checkpoint field',
        { checkpoint: { ...CHECKPOINT_LINE, note: 'x' } },
        'checkpoint.note',
      ],
      [
        'another line type',
        { checkpoint: { ...CHECKPOINT_LINE, type: 'audit.event' } },
        'checkpoint.type',
      ],
      [
        'an id that is not a sequence number',
        { checkpoint: { ...CHECKPOINT_LINE, id: '7x' } },
        'checkpoint.id',
      ],
      [
        'a time that is not ISO 8601',
        { checkpoint: { ...CHECKPOINT_LINE, createdAt: 'today' } },
        'checkpoint.createdAt',
      ],
      [
        'a head seq that is a number',
        { checkpoint: { ...CHECKPOINT_LINE, headSeq: 3 } },
        'checkpoint.headSeq',
      ],
      [
        'lanes that are not a list',
        { checkpoint: { ...CHECKPOINT_LINE, lanes: {} } },
        'checkpoint.lanes',
      ],
      [
        'more than 64 lanes',
        {
          checkpoint: {
            ...CHECKPOINT_LINE,
            lanes: Array.from({ length: 65 }, (_, lane) => ({
              lane,
              laneSeq: '0',
              seq: null,
              hash: null,
            })),
          },
        },
        'checkpoint.lanes',
      ],
      [
        'a lane number out of range',
        {
          checkpoint: {
            ...CHECKPOINT_LINE,
            lanes: [{ lane: 64, laneSeq: '0', seq: null, hash: null }],
          },
        },
        'checkpoint.lanes.0.lane',
      ],
      [
        'a lane hash that is not hex',
        {
          checkpoint: {
            ...CHECKPOINT_LINE,
            lanes: [{ lane: 0, laneSeq: '1', seq: '1', hash: 'zz' }],
          },
        },
        'checkpoint.lanes.0.hash',
      ],
      [
        'an unknown algorithm',
        { checkpoint: { ...CHECKPOINT_LINE, algorithm: 'RSA' } },
        'checkpoint.algorithm',
      ],
      [
        'a key id with a slash',
        { checkpoint: { ...CHECKPOINT_LINE, keyId: 'k1/..' } },
        'checkpoint.keyId',
      ],
      [
        'a signature with spaces',
        { checkpoint: { ...CHECKPOINT_LINE, signature: 'a b' } },
        'checkpoint.signature',
      ],
    ])('should answer 400 for %s without calling the service', async (_case, payload, field) => {
      const response = await app.inject({ method: 'POST', url: '/api/v1/audit/verify', payload });

      expect(response.statusCode).toBe(400);
      const body = response.json();
      expect(body).toEqual(VALIDATION_ERROR);
      expect(body.fields.map((f: { field: string }) => f.field)).toContain(field);
      expect(verification.verify).not.toHaveBeenCalled();
    });

    it('should answer 200 with the first bad event of a tampered chain', async () => {
      const result = {
        ok: false,
        verified: 41,
        headSeq: '100',
        firstBadSeq: '42',
        reason: 'hash mismatch',
      };
      verification.verify.mockResolvedValueOnce(result);

      const response = await app.inject({ method: 'POST', url: '/api/v1/audit/verify' });

      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual(result);
    });

    it('should not route GET to verify', async () => {
      const response = await app.inject({ method: 'GET', url: '/api/v1/audit/verify' });

      expect(response.statusCode).toBe(404);
      expect(response.json()).toMatchObject({ statusCode: 404, requestId: expect.any(String) });
      expect(verification.verify).not.toHaveBeenCalled();
    });
  });
});

/**
 * The routes behind the real AuthGuard (its token, user and API-key lookups stubbed): who may
 * call them is decided by the same code as in production.
 */
describe('AuditController behind the AuthGuard', () => {
  let app: NestFastifyApplication;
  const PEM = '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----\n';
  const KEYS = {
    keyId: 'k2',
    algorithm: 'Ed25519',
    publicKey: PEM,
    keys: [
      { keyId: 'k2', algorithm: 'Ed25519', publicKey: PEM, active: true },
      { keyId: 'k1', algorithm: 'Ed25519', publicKey: PEM, active: false },
    ],
  };
  const SERVICE_KEY = `cus_0123456789abcdef_${'k'.repeat(43)}`;
  const verification = {
    verify: strictFn('AuditVerificationService.verify'),
    publicKeys: strictFn('AuditVerificationService.publicKeys'),
  };
  const queries = { list: strictFn('AuditQueryService.list') };
  // A bearer token `role-<role>` stands for a signed-in user of that role.
  const tokens = {
    verifyAccess: jest.fn((token: string): Promise<AccessClaims> => {
      const role = /^role-(\w+)$/.exec(token)?.[1];
      if (!role) return Promise.reject(new InvalidTokenError());
      return Promise.resolve({ sub: `usr_${role}`, role: role as Role, tv: 1 });
    }),
  };
  const users = {
    findOneBy: jest.fn(({ id }: { id: string }) =>
      Promise.resolve(
        Object.assign(new User(), {
          id,
          email: `${id}@example.com`,
          role: id.slice('usr_'.length),
          status: 'active',
          tokenVersion: 1,
          mustChangePassword: false,
          mfaEnabled: true,
        }),
      ),
    ),
  };
  const apiKeys = {
    authenticate: jest.fn(() =>
      Promise.resolve({ type: 'service' as const, id: 'sa-1', name: 'billing' }),
    ),
  };

  beforeAll(async () => {
    app = await createControllerApp({
      controllers: [AuditController],
      providers: [
        { provide: AuditQueryService, useValue: queries },
        { provide: AuditVerificationService, useValue: verification },
        { provide: TokenService, useValue: tokens },
        { provide: DataSource, useValue: { getRepository: () => users } },
        { provide: ApiKeyAuthenticator, useValue: apiKeys },
        ApiKeyStrategy,
        JwtStrategy,
        { provide: authConfig.KEY, useValue: { requireMfaForAdmins: false } },
        { provide: APP_GUARD, useClass: AuthGuard },
      ],
    });
  });

  afterAll(async () => {
    await app?.close();
  });

  beforeEach(() => {
    verification.publicKeys.mockReset();
    verification.verify.mockReset();
  });

  describe('GET /api/v1/audit/public-key', () => {
    it('should require authentication', async () => {
      const response = await app.inject({ method: 'GET', url: '/api/v1/audit/public-key' });

      expect(response.statusCode).toBe(401);
      expect(response.json()).toMatchObject({ statusCode: 401, requestId: expect.any(String) });
      expect(verification.publicKeys).not.toHaveBeenCalled();
    });

    it.each([
      ['an admin', 'admin'],
      ['an auditor', 'auditor'],
    ])('should answer the public keys to %s', async (_case, role) => {
      verification.publicKeys.mockReturnValueOnce(KEYS);

      const response = await app.inject({
        method: 'GET',
        url: '/api/v1/audit/public-key',
        headers: { authorization: `Bearer role-${role}` },
      });

      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual(KEYS);
      expect(verification.publicKeys).toHaveBeenCalledWith();
    });

    it.each([
      ['a viewer', 'viewer'],
      ['an operator', 'operator'],
    ])('should refuse %s with 403', async (_case, role) => {
      const response = await app.inject({
        method: 'GET',
        url: '/api/v1/audit/public-key',
        headers: { authorization: `Bearer role-${role}` },
      });

      expect(response.statusCode).toBe(403);
      expect(verification.publicKeys).not.toHaveBeenCalled();
    });

    it('should refuse a service account with 403', async () => {
      const response = await app.inject({
        method: 'GET',
        url: '/api/v1/audit/public-key',
        headers: { 'x-api-key': SERVICE_KEY },
      });

      expect(response.statusCode).toBe(403);
      expect(apiKeys.authenticate).toHaveBeenCalledWith(SERVICE_KEY);
      expect(verification.publicKeys).not.toHaveBeenCalled();
    });

    it('should refuse a token that does not verify with 401', async () => {
      const response = await app.inject({
        method: 'GET',
        url: '/api/v1/audit/public-key',
        headers: { authorization: 'Bearer forged' },
      });

      expect(response.statusCode).toBe(401);
      expect(verification.publicKeys).not.toHaveBeenCalled();
    });

    it('should not route a key id in the path', async () => {
      const response = await app.inject({
        method: 'GET',
        url: '/api/v1/audit/public-key/k1',
        headers: { authorization: 'Bearer role-auditor' },
      });

      expect(response.statusCode).toBe(404);
      expect(verification.publicKeys).not.toHaveBeenCalled();
    });
  });

  describe('POST /api/v1/audit/verify', () => {
    it.each([
      ['a viewer', { authorization: 'Bearer role-viewer' }],
      ['an operator', { authorization: 'Bearer role-operator' }],
      ['a service account', { 'x-api-key': SERVICE_KEY }],
    ])('should refuse %s with 403 before reading the body', async (_case, headers) => {
      const response = await app.inject({
        method: 'POST',
        url: '/api/v1/audit/verify',
        headers,
        payload: { checkpoint: CHECKPOINT_LINE },
      });

      expect(response.statusCode).toBe(403);
      expect(verification.verify).not.toHaveBeenCalled();
    });

    it('should let an auditor check a checkpoint kept outside', async () => {
      verification.verify.mockResolvedValueOnce({ ok: true, verified: 3, headSeq: '3' });

      const response = await app.inject({
        method: 'POST',
        url: '/api/v1/audit/verify',
        headers: { authorization: 'Bearer role-auditor' },
        payload: { checkpoint: CHECKPOINT_LINE },
      });

      expect(response.statusCode).toBe(200);
      expect(verification.verify).toHaveBeenCalledWith(expect.objectContaining({ id: '7' }));
    });
  });
});
