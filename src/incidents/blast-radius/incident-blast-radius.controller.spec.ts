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
} from '../../../test/helpers/guard-stubs';
import { User } from '../../auth/users/user.entity';
import type { Role } from '../../common/auth/access-vocabulary';
import { IncidentNotFoundError } from '../incident.errors';
import { IncidentBlastRadiusController } from './incident-blast-radius.controller';
import { IncidentExportService } from './incident-export.service';

const INCIDENT_ID = '3c9d2a4e-1f5b-4c6d-8e7f-9a0b1c2d3e4f';
const RADIUS = {
  incidentId: INCIDENT_ID,
  since: '2026-10-01T00:00:00.000Z',
  until: '2026-11-30T00:00:00.000Z',
  credentials: [],
  principals: [],
};

describe('IncidentBlastRadiusController behind the AuthGuard', () => {
  let app: NestFastifyApplication;
  const exports = {
    radius: strictFn('IncidentExportService.radius'),
    export: strictFn('IncidentExportService.export'),
  };

  beforeAll(async () => {
    app = await createControllerApp({
      controllers: [IncidentBlastRadiusController],
      providers: [
        { provide: IncidentExportService, useValue: exports },
        {
          provide: DataSource,
          useValue: {
            getRepository: (entity: unknown) => {
              if (entity === User) return STUB_USERS;
              throw new Error(`unexpected repository ${String(entity)}`);
            },
          },
        },
        ...realAuthGuard(),
      ],
    });
  });

  afterAll(() => app.close());
  afterEach(() => jest.resetAllMocks());

  const get = (url: string, headers: Record<string, string> = {}) =>
    app.inject({ method: 'GET', url, headers });

  it('should require authentication', async () => {
    const response = await get(`/api/v1/incidents/${INCIDENT_ID}/blast-radius`);
    expect(response.statusCode).toBe(401);
  });

  it.each(['admin', 'operator', 'auditor'] as Role[])(
    'should answer the blast radius to an %s, with the window it was asked for',
    async (role) => {
      exports.radius.mockResolvedValueOnce(RADIUS);
      const response = await get(
        `/api/v1/incidents/${INCIDENT_ID}/blast-radius?since=2026-10-01T00:00:00Z`,
        bearerOf(role),
      );
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual(RADIUS);
      expect(exports.radius).toHaveBeenCalledWith(INCIDENT_ID, new Date('2026-10-01T00:00:00Z'));
    },
  );

  it('should default the window to the service (no since)', async () => {
    exports.radius.mockResolvedValueOnce(RADIUS);
    await get(`/api/v1/incidents/${INCIDENT_ID}/blast-radius`, bearerOf('auditor'));
    expect(exports.radius).toHaveBeenCalledWith(INCIDENT_ID, undefined);
  });

  it.each([
    ['a viewer', bearerOf('viewer')],
    ['a service', serviceKeyOf('deployer')],
  ])('should refuse %s with 403 on both routes', async (_, headers) => {
    for (const route of ['blast-radius', 'export']) {
      const response = await get(`/api/v1/incidents/${INCIDENT_ID}/${route}`, headers);
      expect(response.statusCode).toBe(403);
    }
  });

  it('should reject a bad id', async () => {
    const response = await get('/api/v1/incidents/1234/blast-radius', bearerOf('admin'));
    expect(response.statusCode).toBe(400);
  });

  it('should reject a since that is not a time, and unknown parameters', async () => {
    for (const query of ['since=yesterday', 'since=2026-10-01T00:00:00Z&until=x']) {
      const response = await get(
        `/api/v1/incidents/${INCIDENT_ID}/export?${query}`,
        bearerOf('admin'),
      );
      expect(response.statusCode).toBe(400);
      expect(response.json()).toEqual(VALIDATION_ERROR);
    }
  });

  it('should answer 404 for an incident that does not exist', async () => {
    exports.export.mockRejectedValueOnce(new IncidentNotFoundError());
    const response = await get(`/api/v1/incidents/${INCIDENT_ID}/export`, bearerOf('operator'));
    expect(response.statusCode).toBe(404);
  });

  it('should answer the export', async () => {
    const body = {
      exportedAt: RADIUS.until,
      incident: { id: INCIDENT_ID },
      timeline: [],
      timelineIntegrity: { ok: true, checked: 0, problems: [] },
      blastRadius: RADIUS,
      auditHeads: [],
    };
    exports.export.mockResolvedValueOnce(body);
    const response = await get(`/api/v1/incidents/${INCIDENT_ID}/export`, bearerOf('admin'));
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual(body);
  });
});
