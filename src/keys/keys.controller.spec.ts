import { NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  actingAs,
  createControllerApp,
  strictFn,
  VALIDATION_ERROR,
} from '../../test/helpers/controller-app';
import { AuditRequestContext } from '../audit/audit-context';
import { IS_PUBLIC, ROLES } from '../common/auth/auth.decorators';
import type { Principal } from '../common/auth/principal';
import { KeyRotationService, KeyStatus } from './key-rotation.service';
import { KeysController } from './keys.controller';
import { KeyRotationTargetError } from './keys.errors';

const ADMIN: Principal = {
  type: 'user',
  id: '9c2d4e6f-8a0b-4c1d-9e2f-3a4b5c6d7e8f',
  email: 'admin@example.com',
  role: 'admin',
  mustChangePassword: false,
  mfaEnabled: false,
};

function keyStatus(overrides: Partial<KeyStatus> = {}): KeyStatus {
  return {
    activeKeyId: 'k2',
    remaining: 12,
    rewrap: {
      state: 'running',
      startedAt: new Date('2025-01-02T03:04:05.000Z'),
      finishedAt: null,
      rewrapped: { secretVersions: 40 },
      error: null,
    },
    keys: [
      {
        id: 'k1',
        status: 'retired',
        configured: true,
        createdAt: new Date('2024-06-01T00:00:00.000Z'),
        references: { secretVersions: 12, totpSecrets: 0 },
        removable: false,
        signsAuditEvents: false,
        note: 'Still protects 12 items',
      },
      {
        id: 'k2',
        status: 'active',
        configured: true,
        createdAt: new Date('2025-01-02T03:04:05.000Z'),
        references: { secretVersions: 40, totpSecrets: 3 },
        removable: false,
        signsAuditEvents: false,
        note: 'Active',
      },
      {
        id: 'k3',
        status: 'not-enrolled',
        configured: true,
        createdAt: null,
        references: { secretVersions: 0, totpSecrets: 0 },
        removable: true,
        signsAuditEvents: false,
        note: 'Configured here, never activated',
      },
    ],
    ...overrides,
  };
}

const STATUS_BODY = {
  activeKeyId: 'k2',
  remaining: 12,
  rewrap: {
    state: 'running',
    startedAt: '2025-01-02T03:04:05.000Z',
    finishedAt: null,
    rewrapped: { secretVersions: 40 },
    error: null,
  },
  keys: [
    {
      id: 'k1',
      status: 'retired',
      configured: true,
      createdAt: '2024-06-01T00:00:00.000Z',
      references: { secretVersions: 12, totpSecrets: 0 },
      removable: false,
      signsAuditEvents: false,
      note: 'Still protects 12 items',
    },
    {
      id: 'k2',
      status: 'active',
      configured: true,
      createdAt: '2025-01-02T03:04:05.000Z',
      references: { secretVersions: 40, totpSecrets: 3 },
      removable: false,
      signsAuditEvents: false,
      note: 'Active',
    },
    {
      id: 'k3',
      status: 'not-enrolled',
      configured: true,
      createdAt: null,
      references: { secretVersions: 0, totpSecrets: 0 },
      removable: true,
      signsAuditEvents: false,
      note: 'Configured here, never activated',
    },
  ],
};

describe('KeysController', () => {
  let app: NestFastifyApplication;
  const rotation = {
    activate: strictFn('KeyRotationService.activate'),
    start: strictFn('KeyRotationService.start'),
    status: strictFn('KeyRotationService.status'),
    rewrapAll: strictFn('KeyRotationService.rewrapAll'),
  };
  let lastContext: AuditRequestContext | undefined;

  beforeAll(async () => {
    app = await createControllerApp(
      {
        controllers: [KeysController],
        providers: [{ provide: KeyRotationService, useValue: rotation }],
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

  function arrangeRotation(status = keyStatus()): void {
    rotation.activate.mockResolvedValueOnce({ from: 'k1', to: 'k2' });
    rotation.start.mockReturnValueOnce(undefined);
    rotation.status.mockResolvedValueOnce(status);
  }

  function expectNoServiceCalled(): void {
    for (const method of Object.values(rotation)) expect(method).not.toHaveBeenCalled();
  }

  it('should require authentication', () => {
    expect(Reflect.getMetadata(IS_PUBLIC, KeysController)).toBeUndefined();
    expect(Reflect.getMetadata(IS_PUBLIC, KeysController.prototype.rotate)).toBeUndefined();
    expect(Reflect.getMetadata(IS_PUBLIC, KeysController.prototype.status)).toBeUndefined();
  });

  it('should be for admins only, with no route widening it', () => {
    expect(Reflect.getMetadata(ROLES, KeysController)).toEqual(['admin']);
    expect(Reflect.getMetadata(ROLES, KeysController.prototype.rotate)).toBeUndefined();
    expect(Reflect.getMetadata(ROLES, KeysController.prototype.status)).toBeUndefined();
  });

  describe('POST /api/v1/keys/rotate', () => {
    it('should activate the key, start re-wrapping and answer 202 with the status', async () => {
      arrangeRotation();

      const response = await app.inject({
        method: 'POST',
        url: '/api/v1/keys/rotate',
        payload: { keyId: 'k2' },
      });

      expect(response.statusCode).toBe(202);
      expect(response.json()).toEqual(STATUS_BODY);
      expect(rotation.activate).toHaveBeenCalledTimes(1);
      expect(rotation.activate).toHaveBeenCalledWith('k2', lastContext);
      expect(rotation.start).toHaveBeenCalledTimes(1);
      expect(rotation.start).toHaveBeenCalledWith();
      expect(rotation.status).toHaveBeenCalledTimes(1);
      const [activated] = rotation.activate.mock.invocationCallOrder;
      const [started] = rotation.start.mock.invocationCallOrder;
      const [reported] = rotation.status.mock.invocationCallOrder;
      expect(activated).toBeLessThan(started);
      expect(started).toBeLessThan(reported);
      expect(rotation.rewrapAll).not.toHaveBeenCalled();
    });

    it.each([
      ['an empty body', {}],
      ['no body at all', undefined],
    ])('should let the service pick the new key for %s', async (_case, payload) => {
      arrangeRotation();

      const response = await app.inject({ method: 'POST', url: '/api/v1/keys/rotate', payload });

      expect(response.statusCode).toBe(202);
      expect(rotation.activate).toHaveBeenCalledWith(undefined, lastContext);
    });

    it.each([
      ['a one-character key id', 'k'],
      ['a key id of digits', '2025'],
      ['a key id with dashes', 'prod-2025-01'],
      ['a key id of 32 characters', `k${'0'.repeat(31)}`],
    ])('should accept %s', async (_case, keyId) => {
      arrangeRotation();

      const response = await app.inject({
        method: 'POST',
        url: '/api/v1/keys/rotate',
        payload: { keyId },
      });

      expect(response.statusCode).toBe(202);
      expect(rotation.activate).toHaveBeenCalledWith(keyId, lastContext);
    });

    it.each([
      ['an empty key id', { keyId: '' }, 'keyId'],
      ['a key id in upper case', { keyId: 'K2' }, 'keyId'],
      ['a key id starting with a dash', { keyId: '-k2' }, 'keyId'],
      ['a key id longer than 32', { keyId: `k${'0'.repeat(32)}` }, 'keyId'],
      ['a key id with a slash', { keyId: 'k2/../k1' }, 'keyId'],
      ['a key id with a colon', { keyId: 'k2:c2VjcmV0' }, 'keyId'],
      ['a key id with a space', { keyId: 'k 2' }, 'keyId'],
      ['a key id that is a number', { keyId: 2 }, 'keyId'],
      ['a key id that is an array', { keyId: ['k2'] }, 'keyId'],
      ['a key id that is an object', { keyId: { id: 'k2' } }, 'keyId'],
      ['the key material itself', { keyId: 'k2', key: 'c2VjcmV0'.repeat(4) }, 'key'],
      ['an unknown field', { keyId: 'k2', force: true }, 'force'],
    ])(
      'should answer 400 naming the field for %s without calling the service',
      async (_case, payload, field) => {
        const response = await app.inject({ method: 'POST', url: '/api/v1/keys/rotate', payload });

        expect(response.statusCode).toBe(400);
        const body = response.json();
        expect(body).toEqual(VALIDATION_ERROR);
        expect(body.fields).toEqual([{ field, errors: expect.any(Array) }]);
        expectNoServiceCalled();
      },
    );

    it('should say what a key id looks like', async () => {
      const response = await app.inject({
        method: 'POST',
        url: '/api/v1/keys/rotate',
        payload: { keyId: 'K2' },
      });

      expect(response.json().fields).toEqual([
        { field: 'keyId', errors: ['keyId must be a key id such as k2'] },
      ]);
    });

    it('should answer 400 for a body that is not an object', async () => {
      const response = await app.inject({
        method: 'POST',
        url: '/api/v1/keys/rotate',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify(['k2']),
      });

      expect(response.statusCode).toBe(400);
      expectNoServiceCalled();
    });

    it('should answer 400 with the reason and start nothing when the key cannot be activated', async () => {
      rotation.activate.mockRejectedValueOnce(
        new KeyRotationTargetError(
          'Master key "k9" is not configured on this instance (configured: k1, k2)',
        ),
      );

      const response = await app.inject({
        method: 'POST',
        url: '/api/v1/keys/rotate',
        payload: { keyId: 'k9' },
      });

      expect(response.statusCode).toBe(400);
      expect(response.json()).toEqual({
        statusCode: 400,
        error: 'Bad Request',
        message: 'Master key "k9" is not configured on this instance (configured: k1, k2)',
        requestId: expect.any(String),
      });
      expect(rotation.start).not.toHaveBeenCalled();
      expect(rotation.status).not.toHaveBeenCalled();
    });

    it('should answer a generic 500 and start nothing when activation fails unexpectedly', async () => {
      rotation.activate.mockRejectedValueOnce(new Error('ER_LOCK_WAIT_TIMEOUT: keyring_entries'));

      const response = await app.inject({
        method: 'POST',
        url: '/api/v1/keys/rotate',
        payload: { keyId: 'k2' },
      });

      expect(response.statusCode).toBe(500);
      expect(response.json()).toEqual({
        statusCode: 500,
        error: 'Internal Server Error',
        message: 'Internal server error',
        requestId: expect.any(String),
      });
      expect(rotation.start).not.toHaveBeenCalled();
    });
  });

  describe('GET /api/v1/keys/status', () => {
    it('should answer the keys and the re-wrap progress with ISO dates', async () => {
      rotation.status.mockResolvedValueOnce(keyStatus());

      const response = await app.inject({ method: 'GET', url: '/api/v1/keys/status' });

      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual(STATUS_BODY);
      expect(rotation.status).toHaveBeenCalledWith();
      expect(rotation.activate).not.toHaveBeenCalled();
      expect(rotation.start).not.toHaveBeenCalled();
    });

    it('should answer a finished run and a failed one', async () => {
      rotation.status.mockResolvedValueOnce(
        keyStatus({
          remaining: 3,
          rewrap: {
            state: 'failed',
            startedAt: new Date('2025-01-02T03:04:05.000Z'),
            finishedAt: new Date('2025-01-02T03:05:00.000Z'),
            rewrapped: { secretVersions: 40, totpSecrets: 3 },
            error: 'the lease was lost',
          },
          keys: [],
        }),
      );

      const response = await app.inject({ method: 'GET', url: '/api/v1/keys/status' });

      expect(response.json()).toEqual({
        activeKeyId: 'k2',
        remaining: 3,
        rewrap: {
          state: 'failed',
          startedAt: '2025-01-02T03:04:05.000Z',
          finishedAt: '2025-01-02T03:05:00.000Z',
          rewrapped: { secretVersions: 40, totpSecrets: 3 },
          error: 'the lease was lost',
        },
        keys: [],
      });
    });

    it('should ignore query parameters, passing nothing to the service', async () => {
      rotation.status.mockResolvedValueOnce(keyStatus());

      const response = await app.inject({ method: 'GET', url: '/api/v1/keys/status?key=k1' });

      expect(response.statusCode).toBe(200);
      expect(rotation.status).toHaveBeenCalledWith();
    });
  });
});
