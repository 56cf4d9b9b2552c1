import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DataSource, EntityManager } from 'typeorm';
import {
  actingAs,
  createControllerApp,
  strictFn,
  VALIDATION_ERROR,
} from '../../../test/helpers/controller-app';
import {
  bearerOf,
  realAuthGuard,
  serviceIdOf,
  serviceKeyOf,
  STUB_USERS,
  userIdOf,
} from '../../../test/helpers/guard-stubs';
import { AuditWriter } from '../../audit/audit-writer';
import { AccessGrant } from '../../auth/grants/access-grant.entity';
import { AccessPolicy } from '../../auth/grants/access-policy';
import { User } from '../../auth/users/user.entity';
import { IS_PUBLIC, ROLES } from '../../common/auth/auth.decorators';
import type { Principal } from '../../common/auth/principal';
import { CredentialAccess } from '../../credentials/credential-access';
import { Credential } from '../../credentials/entities/credential.entity';
import { TransactionRunner } from '../../database/transaction-runner';
import { RotationPolicy } from '../entities/rotation-policy.entity';
import { CredentialPolicyService } from '../policy/credential-policy.service';
import type { EffectivePolicy } from '../policy/effective-policy';
import type { PolicyFields } from '../policy/policy-input';
import { RotationPolicyService } from '../policy/rotation-policy.service';
import { RotationPolicyValidator } from '../policy/rotation-policy-validator';
import { CredentialRotationPolicyController } from './credential-rotation-policy.controller';

const CREDENTIAL_ID = '5b1e6c2a-8d3f-4a7b-9c1d-2e3f4a5b6c7d';
const POLICY_ID = '7a2b3c4d-5e6f-4a1b-8c2d-3e4f5a6b7c8d';
const URL = `/api/v1/credentials/${CREDENTIAL_ID}/rotation`;
const NOW = new Date('2026-11-30T12:00:00.000Z');
const DUE = new Date('2026-12-30T12:00:00.000Z');
const BODY = { enabled: true, interval: 'P30D', rotator: { kind: 'generated' } };

/** Services by name and their grants; one without any on the credential's path. */
const GRANTS: Record<string, { pathPattern: string; capabilities: string }[]> = {
  reader: [{ pathPattern: 'acme/prod/*', capabilities: 'read' }],
  rotator: [{ pathPattern: 'acme/prod/*', capabilities: 'read,rotate' }],
  stranger: [{ pathPattern: 'acme/dev/*', capabilities: 'read,rotate' }],
};

function credential(): Credential {
  return Object.assign(new Credential(), {
    id: CREDENTIAL_ID,
    path: 'acme/prod/db',
    type: 'password',
    status: 'active',
    rowVersion: 4,
    nextRotationAt: DUE,
    rotationStatus: 'scheduled',
  });
}

const EFFECTIVE: EffectivePolicy = {
  policyId: POLICY_ID,
  source: 'credential',
  pathPattern: null,
  enabled: true,
  rotateEvery: 'P30D',
  schedule: null,
  window: null,
  offset: null,
  gracePeriod: 'PT48H',
  graceSeconds: 172_800,
  rotator: { kind: 'generated' },
  generator: null,
  endGraceOnFullAdoption: true,
};

const FIELDS: PolicyFields = {
  enabled: true,
  rotateEvery: 'P30D',
  schedule: null,
  window: null,
  gracePeriod: null,
  offset: null,
  rotator: { kind: 'generated' },
  generator: null,
  endGraceOnFullAdoption: true,
};

const RESPONSE = {
  credentialId: CREDENTIAL_ID,
  policyId: POLICY_ID,
  source: 'credential',
  pathPattern: null,
  enabled: true,
  interval: 'P30D',
  schedule: null,
  window: null,
  gracePeriod: 'PT48H',
  offset: null,
  rotator: { kind: 'generated' },
  generator: null,
  endGraceOnFullAdoption: true,
  nextRotationAt: DUE.toISOString(),
  rotationStatus: 'scheduled',
};

/**
 * The routes behind the real AuthGuard and the real service with its real access check
 * (CredentialAccess and AccessPolicy over a stubbed EntityManager holding one credential and the
 * grants above): who may do what is decided by production code. What the service does once
 * allowed (validation, storage, scheduling, audit) is stubbed and only checked for being reached.
 */
describe('CredentialRotationPolicyController behind the AuthGuard and the access check', () => {
  let app: NestFastifyApplication;
  const policies = {
    effective: strictFn('RotationPolicyService.effective'),
    applyPolicyChange: strictFn('RotationPolicyService.applyPolicyChange'),
  };
  const validator = {
    check: strictFn('RotationPolicyValidator.check'),
    review: strictFn('RotationPolicyValidator.review'),
  };
  const audit = { record: strictFn('AuditWriter.record') };
  const writes = {
    insert: strictFn('EntityManager.insert'),
    update: strictFn('EntityManager.update'),
    delete: strictFn('EntityManager.delete'),
  };
  let ownPolicy: RotationPolicy | null = null;
  const manager = {
    connection: { options: { type: 'mysql' } },
    query: () => Promise.resolve([{ now: NOW }]),
    findOne: (entity: unknown, options: { where: Record<string, unknown> }) => {
      if (entity === Credential) {
        return Promise.resolve(options.where.id === CREDENTIAL_ID ? credential() : null);
      }
      if (entity === RotationPolicy) return Promise.resolve(ownPolicy);
      throw new Error(`unexpected findOne of ${String(entity)}`);
    },
    getRepository: (entity: unknown) => {
      if (entity !== AccessGrant) throw new Error(`unexpected repository ${String(entity)}`);
      return {
        find: ({ where }: { where: { principalId: string } }) =>
          Promise.resolve(
            Object.entries(GRANTS)
              .filter(([name]) => serviceIdOf(name) === where.principalId)
              .flatMap(([, grants]) => grants),
          ),
      };
    },
    ...writes,
  } as unknown as EntityManager;
  const transactions = {
    run: (work: (m: EntityManager) => Promise<unknown>) => work(manager),
    read: (work: (m: EntityManager) => Promise<unknown>) => work(manager),
  };

  beforeAll(async () => {
    app = await createControllerApp({
      controllers: [CredentialRotationPolicyController],
      providers: [
        CredentialPolicyService,
        CredentialAccess,
        AccessPolicy,
        { provide: TransactionRunner, useValue: transactions },
        { provide: RotationPolicyService, useValue: policies },
        { provide: RotationPolicyValidator, useValue: validator },
        { provide: AuditWriter, useValue: audit },
        {
          provide: DataSource,
          useValue: {
            getRepository: (entity: unknown) => {
              if (entity === User) return STUB_USERS;
              throw new Error('the access check must read grants in the transaction');
            },
          },
        },
        ...realAuthGuard(),
      ],
    });
  });

  afterAll(async () => {
    await app?.close();
  });

  beforeEach(() => {
    jest.clearAllMocks();
    ownPolicy = null;
  });

  function expectNothingDone(): void {
    for (const method of [
      ...Object.values(policies),
      ...Object.values(validator),
      audit.record,
      ...Object.values(writes),
    ]) {
      expect(method).not.toHaveBeenCalled();
    }
  }

  describe('route metadata', () => {
    const handlers = ['get', 'put', 'remove'] as const;

    it('should require authentication and leave access to grants on every route', () => {
      for (const handler of handlers) {
        const target = CredentialRotationPolicyController.prototype[handler];
        expect([
          handler,
          Reflect.getMetadata(IS_PUBLIC, target),
          Reflect.getMetadata(ROLES, target),
        ]).toEqual([handler, undefined, undefined]);
      }
    });

    it.each([
      ['GET', undefined],
      ['PUT', BODY],
      ['DELETE', undefined],
    ] as const)('should answer %s without credentials with 401', async (method, payload) => {
      const response = await app.inject({ method, url: URL, payload });

      expect(response.statusCode).toBe(401);
      expectNothingDone();
    });

    it.each([
      ['GET', undefined],
      ['PUT', BODY],
      ['DELETE', undefined],
    ] as const)('should reject a bad id on %s', async (method, payload) => {
      const response = await app.inject({
        method,
        url: '/api/v1/credentials/1234/rotation',
        payload,
        headers: bearerOf('admin'),
      });

      expect(response.statusCode).toBe(400);
      expectNothingDone();
    });
  });

  describe('GET /api/v1/credentials/:id/rotation', () => {
    it.each([
      ['a viewer', bearerOf('viewer')],
      ['an auditor', bearerOf('auditor')],
      ['an operator', bearerOf('operator')],
      ['a service that may read the path', serviceKeyOf('reader')],
    ])('should answer the policy that applies to %s', async (_who, headers) => {
      policies.effective.mockResolvedValueOnce(EFFECTIVE);

      const response = await app.inject({ method: 'GET', url: URL, headers });

      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual(RESPONSE);
    });

    it('should not reveal the credential to a service without a grant on its path', async () => {
      const response = await app.inject({
        method: 'GET',
        url: URL,
        headers: serviceKeyOf('stranger'),
      });

      expect(response.statusCode).toBe(404);
      expect(response.json().message).toBe('Credential not found');
      expectNothingDone();
    });

    it('should answer 404 with a clear message when no policy applies', async () => {
      policies.effective.mockResolvedValueOnce(null);

      const response = await app.inject({ method: 'GET', url: URL, headers: bearerOf('viewer') });

      expect(response.statusCode).toBe(404);
      expect(response.json().message).toMatch(/^No rotation policy applies to this credential/);
    });

    it('should answer 404 for a credential that does not exist', async () => {
      const response = await app.inject({
        method: 'GET',
        url: '/api/v1/credentials/2f1c7a52-3f0e-4f43-9f55-1f4a4c3f8b11/rotation',
        headers: bearerOf('admin'),
      });

      expect(response.statusCode).toBe(404);
      expectNothingDone();
    });
  });

  describe('PUT /api/v1/credentials/:id/rotation', () => {
    it.each([
      ['a viewer', bearerOf('viewer'), 403],
      ['an auditor', bearerOf('auditor'), 403],
      ['a service that may only read the path', serviceKeyOf('reader'), 403],
      ['a service without a grant on the path', serviceKeyOf('stranger'), 404],
    ])('should refuse %s', async (_who, headers, status) => {
      const response = await app.inject({ method: 'PUT', url: URL, payload: BODY, headers });

      expect(response.statusCode).toBe(status);
      if (status === 403) {
        expect(response.json().message).toBe(
          "This needs the 'rotate' capability on the credential's path",
        );
      }
      expectNothingDone();
    });

    it.each([
      ['an admin', bearerOf('admin'), userIdOf('admin')],
      ['an operator', bearerOf('operator'), userIdOf('operator')],
      ['a service with rotate on the path', serviceKeyOf('rotator'), serviceIdOf('rotator')],
    ])(
      'should let %s set it, check it against the credential type and answer it',
      async (_who, headers, creator) => {
        validator.check.mockReturnValueOnce(FIELDS);
        validator.review.mockResolvedValueOnce(['a warning from the rotator']);
        writes.insert.mockResolvedValueOnce(undefined);
        policies.applyPolicyChange.mockResolvedValueOnce(undefined);
        policies.effective.mockResolvedValueOnce(EFFECTIVE);
        audit.record.mockResolvedValueOnce(undefined);

        const response = await app.inject({ method: 'PUT', url: URL, payload: BODY, headers });

        expect(response.statusCode).toBe(200);
        expect(response.json()).toEqual({
          ...RESPONSE,
          policyId: POLICY_ID,
          warnings: ['a warning from the rotator'],
        });
        expect(validator.check).toHaveBeenCalledWith(
          expect.objectContaining(BODY),
          { type: 'password' },
          NOW,
        );
        expect(validator.review).toHaveBeenCalledWith(
          FIELDS,
          {
            credential: expect.objectContaining({ id: CREDENTIAL_ID }),
            principal: expect.objectContaining({ id: creator }),
          },
          manager,
        );
        expect(writes.insert).toHaveBeenCalledWith(
          RotationPolicy,
          expect.objectContaining({
            credentialId: CREDENTIAL_ID,
            pathPattern: null,
            createdBy: creator,
            rotateEvery: 'P30D',
          }),
        );
        expect(policies.applyPolicyChange).toHaveBeenCalledWith(
          manager,
          expect.objectContaining({ id: CREDENTIAL_ID }),
          NOW,
        );
        expect(audit.record).toHaveBeenCalledWith(
          expect.objectContaining({
            action: 'rotation.policy.update',
            resourceId: CREDENTIAL_ID,
            details: expect.objectContaining({ created: true, rotator: 'generated' }),
          }),
          manager,
        );
      },
    );

    it('should replace a policy the credential has', async () => {
      ownPolicy = Object.assign(new RotationPolicy(), {
        id: POLICY_ID,
        credentialId: CREDENTIAL_ID,
      });
      validator.check.mockReturnValueOnce(FIELDS);
      validator.review.mockResolvedValueOnce([]);
      writes.update.mockResolvedValueOnce(undefined);
      policies.applyPolicyChange.mockResolvedValueOnce(undefined);
      policies.effective.mockResolvedValueOnce(EFFECTIVE);
      audit.record.mockResolvedValueOnce(undefined);

      const response = await app.inject({
        method: 'PUT',
        url: URL,
        payload: BODY,
        headers: bearerOf('operator'),
      });

      expect(response.statusCode).toBe(200);
      expect(writes.update).toHaveBeenCalledWith(
        RotationPolicy,
        { id: POLICY_ID },
        expect.objectContaining({ rotateEvery: 'P30D' }),
      );
      expect(writes.insert).not.toHaveBeenCalled();
    });

    it.each([
      ['an unknown field', { ...BODY, nextRotationAt: NOW.toISOString() }, 'nextRotationAt'],
      ['no rotator', { enabled: true }, 'rotator'],
      [
        'a generator of 4 characters',
        { ...BODY, generator: { format: 'hex', length: 4 } },
        'generator.length',
      ],
    ])(
      'should answer 400 for %s before looking at the credential',
      async (_case, payload, field) => {
        const response = await app.inject({
          method: 'PUT',
          url: URL,
          payload,
          headers: bearerOf('admin'),
        });

        expect(response.statusCode).toBe(400);
        expect(response.json()).toEqual({
          ...VALIDATION_ERROR,
          fields: [{ field, errors: expect.any(Array) }],
        });
        expectNothingDone();
      },
    );
  });

  describe('DELETE /api/v1/credentials/:id/rotation', () => {
    it.each([
      ['a viewer', bearerOf('viewer'), 403],
      ['an auditor', bearerOf('auditor'), 403],
      ['a service that may only read the path', serviceKeyOf('reader'), 403],
      ['a service without a grant on the path', serviceKeyOf('stranger'), 404],
    ])('should refuse %s', async (_who, headers, status) => {
      ownPolicy = Object.assign(new RotationPolicy(), {
        id: POLICY_ID,
        credentialId: CREDENTIAL_ID,
      });

      const response = await app.inject({ method: 'DELETE', url: URL, headers });

      expect(response.statusCode).toBe(status);
      expectNothingDone();
    });

    it.each([
      ['an admin', bearerOf('admin')],
      ['an operator', bearerOf('operator')],
      ['a service with rotate on the path', serviceKeyOf('rotator')],
    ])('should let %s delete it and answer 204', async (_who, headers) => {
      ownPolicy = Object.assign(new RotationPolicy(), {
        id: POLICY_ID,
        credentialId: CREDENTIAL_ID,
      });
      writes.delete.mockResolvedValueOnce(undefined);
      policies.applyPolicyChange.mockResolvedValueOnce(undefined);
      policies.effective.mockResolvedValueOnce(null);
      audit.record.mockResolvedValueOnce(undefined);

      const response = await app.inject({ method: 'DELETE', url: URL, headers });

      expect(response.statusCode).toBe(204);
      expect(writes.delete).toHaveBeenCalledWith(RotationPolicy, { id: POLICY_ID });
      expect(audit.record).toHaveBeenCalledWith(
        expect.objectContaining({
          action: 'rotation.policy.delete',
          details: expect.objectContaining({ policyId: POLICY_ID, fallbackPolicyId: null }),
        }),
        manager,
      );
    });

    it('should answer 404 when the credential has no policy of its own', async () => {
      const response = await app.inject({ method: 'DELETE', url: URL, headers: bearerOf('admin') });

      expect(response.statusCode).toBe(404);
      expect(response.json().message).toBe(
        'This credential has no rotation policy of its own to delete',
      );
      expectNothingDone();
    });
  });
});

describe('CredentialRotationPolicyController', () => {
  let app: NestFastifyApplication;
  const service = { get: strictFn('CredentialPolicyService.get') };
  const ADMIN: Principal = {
    type: 'user',
    id: userIdOf('admin'),
    email: 'admin@example.com',
    role: 'admin',
    mustChangePassword: false,
    mfaEnabled: true,
  };

  beforeAll(async () => {
    app = await createControllerApp(
      {
        controllers: [CredentialRotationPolicyController],
        providers: [{ provide: CredentialPolicyService, useValue: service }],
      },
      { beforeInit: actingAs(() => ADMIN) },
    );
  });

  afterAll(async () => {
    await app?.close();
  });

  it('should answer a pattern policy with its pattern and a disabled one without a time', async () => {
    service.get.mockResolvedValueOnce({
      credential: Object.assign(credential(), { nextRotationAt: null, rotationStatus: 'disabled' }),
      policy: {
        ...EFFECTIVE,
        source: 'pattern',
        pathPattern: 'acme/**',
        enabled: false,
        window: { start: '01:00', duration: 'PT2H' },
      },
    });

    const response = await app.inject({ method: 'GET', url: URL });

    expect(response.json()).toEqual({
      ...RESPONSE,
      source: 'pattern',
      pathPattern: 'acme/**',
      enabled: false,
      window: { start: '01:00', duration: 'PT2H' },
      nextRotationAt: null,
      rotationStatus: 'disabled',
    });
    expect(service.get).toHaveBeenCalledWith(CREDENTIAL_ID, ADMIN);
  });
});
