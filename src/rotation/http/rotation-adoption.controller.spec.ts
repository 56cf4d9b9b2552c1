import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DataSource } from 'typeorm';
import { createControllerApp, strictFn } from '../../../test/helpers/controller-app';
import {
  bearerOf,
  realAuthGuard,
  serviceKeyOf,
  STUB_USERS,
  userIdOf,
} from '../../../test/helpers/guard-stubs';
import { IS_PUBLIC } from '../../common/auth/auth.decorators';
import { CredentialNotFoundError } from '../../credentials/credential.errors';
import type { AdoptionReport } from '../adoption/adoption-report';
import { AdoptionService } from '../adoption/adoption.service';
import { RotationNotSucceededError } from '../adoption/adoption.errors';
import { RotationRunNotFoundError } from '../engine/rotation.errors';
import { RotationAdoptionController } from './rotation-adoption.controller';

const CREDENTIAL_ID = '5b1e6c2a-8d3f-4a7b-9c1d-2e3f4a5b6c7d';
const RUN_ID = '3b9e2f7c-6d1a-4c8b-b5e4-0a7f9d2c1e63';
const URL = `/api/v1/credentials/${CREDENTIAL_ID}/rotations/${RUN_ID}/adoption`;

const REPORT: AdoptionReport = {
  runId: RUN_ID,
  credentialId: CREDENTIAL_ID,
  version: 5,
  finishedAt: new Date('2026-11-30T12:00:00.000Z'),
  consumersSince: new Date('2026-10-31T12:00:00.000Z'),
  consumers: [
    {
      principalType: 'service_account',
      principalId: 'svc-billing',
      name: 'billing',
      lastRevealedVersion: 5,
      lastRevealedAt: new Date('2026-11-30T12:05:00.000Z'),
      adopted: true,
    },
    {
      principalType: 'service_account',
      principalId: 'svc-reports',
      name: 'reports',
      lastRevealedVersion: 4,
      lastRevealedAt: new Date('2026-11-29T08:00:00.000Z'),
      adopted: false,
    },
  ],
  adopted: 1,
  pending: 1,
  percent: 50,
};

describe('RotationAdoptionController behind the AuthGuard', () => {
  let app: NestFastifyApplication;
  const adoption = { forRun: strictFn('AdoptionService.forRun') };

  beforeAll(async () => {
    app = await createControllerApp({
      controllers: [RotationAdoptionController],
      providers: [
        { provide: AdoptionService, useValue: adoption },
        { provide: DataSource, useValue: { getRepository: () => STUB_USERS } },
        ...realAuthGuard(),
      ],
    });
  });

  afterAll(async () => {
    await app?.close();
  });

  beforeEach(() => jest.clearAllMocks());

  it('should not be public', () => {
    expect(
      Reflect.getMetadata(IS_PUBLIC, RotationAdoptionController.prototype.adoptionOf),
    ).toBeUndefined();
  });

  it('should require authentication', async () => {
    const response = await app.inject({ method: 'GET', url: URL });

    expect(response.statusCode).toBe(401);
    expect(adoption.forRun).not.toHaveBeenCalled();
  });

  it.each([
    ['a viewer', bearerOf('viewer')],
    ['a service account', serviceKeyOf('billing')],
  ])('should refuse %s with 403', async (_who, headers) => {
    const response = await app.inject({ method: 'GET', url: URL, headers });

    expect(response.statusCode).toBe(403);
    expect(adoption.forRun).not.toHaveBeenCalled();
  });

  it.each(['admin', 'operator', 'auditor'] as const)(
    'should answer the report to an %s',
    async (role) => {
      adoption.forRun.mockResolvedValueOnce(REPORT);

      const response = await app.inject({ method: 'GET', url: URL, headers: bearerOf(role) });

      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({
        runId: RUN_ID,
        credentialId: CREDENTIAL_ID,
        version: 5,
        finishedAt: '2026-11-30T12:00:00.000Z',
        consumersSince: '2026-10-31T12:00:00.000Z',
        consumers: [
          {
            principalType: 'service_account',
            principalId: 'svc-billing',
            name: 'billing',
            lastRevealedVersion: 5,
            lastRevealedAt: '2026-11-30T12:05:00.000Z',
            adopted: true,
          },
          {
            principalType: 'service_account',
            principalId: 'svc-reports',
            name: 'reports',
            lastRevealedVersion: 4,
            lastRevealedAt: '2026-11-29T08:00:00.000Z',
            adopted: false,
          },
        ],
        adopted: 1,
        pending: 1,
        percent: 50,
      });
      expect(adoption.forRun).toHaveBeenCalledWith(
        CREDENTIAL_ID,
        RUN_ID,
        expect.objectContaining({ type: 'user', id: userIdOf(role) }),
      );
    },
  );

  it.each([
    ['credential id', `/api/v1/credentials/not-a-uuid/rotations/${RUN_ID}/adoption`],
    ['run id', `/api/v1/credentials/${CREDENTIAL_ID}/rotations/12/adoption`],
  ])('should reject a bad %s with 400', async (_which, url) => {
    const response = await app.inject({ method: 'GET', url, headers: bearerOf('admin') });

    expect(response.statusCode).toBe(400);
    expect(adoption.forRun).not.toHaveBeenCalled();
  });

  it.each([
    ['a missing credential', new CredentialNotFoundError(), 404],
    ['a run of another credential', new RotationRunNotFoundError(), 404],
    ['a run that failed', new RotationNotSucceededError('failed'), 409],
  ])('should answer %s with %s', async (_case, error, status) => {
    adoption.forRun.mockRejectedValueOnce(error);

    const response = await app.inject({ method: 'GET', url: URL, headers: bearerOf('admin') });

    expect(response.statusCode).toBe(status);
    expect(response.json()).toMatchObject({ statusCode: status });
  });
});
