import { NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  actingAs,
  createControllerApp,
  strictFn,
  VALIDATION_ERROR,
} from '../../../test/helpers/controller-app';
import { IS_PUBLIC, ROLES } from '../../common/auth/auth.decorators';
import type { Principal } from '../../common/auth/principal';
import {
  DUE_CURSOR,
  OVERDUE_CURSOR,
  RotationScheduleQuery,
} from '../schedule/rotation-schedule.query';
import { RotationScheduleController } from './rotation-schedule.controller';

const VIEWER: Principal = {
  type: 'user',
  id: '9c2d4e6f-8a0b-4c1d-9e2f-3a4b5c6d7e8f',
  email: 'viewer@example.com',
  role: 'viewer',
  mustChangePassword: false,
  mfaEnabled: false,
};
const CREDENTIAL_ID = '5b1e6c2a-8d3f-4a7b-9c1d-2e3f4a5b6c7d';
const RUN_ID = '3b9e2f7c-6d1a-4c8b-b5e4-0a7f9d2c1e63';

describe('RotationScheduleController', () => {
  let app: NestFastifyApplication;
  const schedule = {
    due: strictFn('RotationScheduleQuery.due'),
    overdue: strictFn('RotationScheduleQuery.overdue'),
  };

  beforeAll(async () => {
    app = await createControllerApp(
      {
        controllers: [RotationScheduleController],
        providers: [{ provide: RotationScheduleQuery, useValue: schedule }],
      },
      { beforeInit: actingAs(() => VIEWER) },
    );
  });

  afterAll(async () => {
    await app?.close();
  });

  beforeEach(() => {
    jest.clearAllMocks();
  });

  describe('route metadata', () => {
    const handlers = ['due', 'overdue'] as const;

    it('should require authentication on every route', () => {
      expect(Reflect.getMetadata(IS_PUBLIC, RotationScheduleController)).toBeUndefined();
      for (const handler of handlers) {
        expect(Reflect.getMetadata(IS_PUBLIC, RotationScheduleController.prototype[handler])).toBe(
          undefined,
        );
      }
    });

    it('should restrict no role: the query filters by role and grant, like the credential list', () => {
      for (const handler of handlers) {
        expect(Reflect.getMetadata(ROLES, RotationScheduleController.prototype[handler])).toBe(
          undefined,
        );
      }
    });
  });

  describe.each([
    ['due', schedule.due, DUE_CURSOR, OVERDUE_CURSOR],
    ['overdue', schedule.overdue, OVERDUE_CURSOR, DUE_CURSOR],
  ] as const)('GET /api/v1/rotations/%s', (route, query, cursors, otherCursors) => {
    const url = `/api/v1/rotations/${route}`;

    it('should pass the page and the caller to the query and map the items', async () => {
      const next = cursors.encode('acme/prod/stripe-key');
      query.mockResolvedValueOnce({
        items: [
          {
            credentialId: CREDENTIAL_ID,
            path: 'acme/prod/mysql-root',
            type: 'password',
            nextRotationAt: new Date('2026-11-28T02:00:00.000Z'),
            rotationStatus: 'awaiting_value',
            overdueSeconds: 5400,
            runId: RUN_ID,
          },
          {
            credentialId: CREDENTIAL_ID,
            path: 'acme/prod/redis',
            type: 'api_key',
            nextRotationAt: null,
            rotationStatus: 'rotating',
          },
        ],
        nextCursor: next,
      });
      const cursor = cursors.encode('acme/prod/a');

      const response = await app.inject({ method: 'GET', url: `${url}?limit=2&cursor=${cursor}` });

      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({
        items: [
          {
            credentialId: CREDENTIAL_ID,
            path: 'acme/prod/mysql-root',
            type: 'password',
            nextRotationAt: '2026-11-28T02:00:00.000Z',
            rotationStatus: 'awaiting_value',
            overdueSeconds: 5400,
            runId: RUN_ID,
          },
          {
            credentialId: CREDENTIAL_ID,
            path: 'acme/prod/redis',
            type: 'api_key',
            nextRotationAt: null,
            rotationStatus: 'rotating',
          },
        ],
        nextCursor: next,
      });
      expect(query).toHaveBeenCalledWith(2, cursor, VIEWER);
    });

    it('should ask for 50 items without a limit', async () => {
      query.mockResolvedValueOnce({ items: [], nextCursor: null });

      const response = await app.inject({ method: 'GET', url });

      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({ items: [], nextCursor: null });
      expect(query).toHaveBeenCalledWith(50, undefined, VIEWER);
    });

    it.each([
      ['a limit above 200', 'limit=201'],
      ['a limit of 0', 'limit=0'],
      ['a limit that is no integer', 'limit=1e2'],
      ['a cursor that is no cursor', 'cursor=garbage'],
      ['a cursor of the other list', `cursor=${otherCursors.encode('acme/prod/a')}`],
      ['an unknown parameter', 'status=failed'],
    ])('should reject %s with 400', async (_case, parameters) => {
      const response = await app.inject({ method: 'GET', url: `${url}?${parameters}` });

      expect(response.statusCode).toBe(400);
      expect(response.json()).toEqual(VALIDATION_ERROR);
      expect(query).not.toHaveBeenCalled();
    });
  });
});
