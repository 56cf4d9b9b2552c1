import { NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  HealthIndicatorResult,
  HealthIndicatorService,
  TerminusModule,
  TypeOrmHealthIndicator,
} from '@nestjs/terminus';
import { createControllerApp, strictFn } from '../../test/helpers/controller-app';
import { AuditSinksHealthIndicator } from './audit-sinks.health';
import { HealthController } from './health.controller';
import { KeyringHealthIndicator } from './keyring.health';
import { RotationHealthIndicator } from './rotation.health';

/** Real indicator results, built the way the real indicators build them. */
const indicators = new HealthIndicatorService();
const databaseUp = () => indicators.check('database').up({ responseTime: 1 });
const databaseDown = () =>
  indicators.check('database').down({ message: 'timeout of 2000ms exceeded', responseTime: 2000 });
const keyringUp = () => indicators.check('keyring').up({ sealed: false, keyId: 'k1' });
const keyringSealed = () =>
  indicators.check('keyring').down({
    sealed: true,
    message: 'Custos is sealed: the master key does not match the stored check value',
  });
const sinksUp = () => indicators.check('auditSinks').up({ backlog: { file: 0 } });
const sinksLagging = () =>
  indicators.check('auditSinks').degraded({
    backlog: { file: 25_000 },
    message: 'audit sinks lagging: file',
  });
const rotationUp = () => indicators.check('rotation').up({ overdue: 0, oldestOverdueSeconds: 0 });
const rotationOverdue = () =>
  indicators.check('rotation').degraded({
    overdue: 2,
    oldestOverdueSeconds: 5400,
    message: '2 credential(s) overdue for rotation, the oldest for 5400 s',
  });

describe('HealthController', () => {
  let app: NestFastifyApplication;
  const withTimeout = strictFn('HealthCheckAttempt.withTimeout');
  const database = { pingCheck: strictFn('TypeOrmHealthIndicator.pingCheck') };
  const keyring = { check: strictFn('KeyringHealthIndicator.check') };
  const auditSinks = { check: strictFn('AuditSinksHealthIndicator.check') };
  const rotation = { check: strictFn('RotationHealthIndicator.check') };

  /** Arranges one readiness check; the ping is an attempt the controller bounds with a timeout. */
  function arrange(results: {
    database: HealthIndicatorResult<'database'>;
    keyring: HealthIndicatorResult<'keyring'>;
    auditSinks: HealthIndicatorResult<'auditSinks'>;
    rotation?: HealthIndicatorResult<'rotation'>;
  }): void {
    withTimeout.mockResolvedValueOnce(results.database);
    database.pingCheck.mockReturnValueOnce({ withTimeout });
    keyring.check.mockReturnValueOnce(results.keyring);
    auditSinks.check.mockResolvedValueOnce(results.auditSinks);
    rotation.check.mockResolvedValueOnce(results.rotation ?? rotationUp());
  }

  beforeAll(async () => {
    app = await createControllerApp({
      imports: [TerminusModule.forRoot({ logger: false })],
      controllers: [HealthController],
      providers: [
        { provide: TypeOrmHealthIndicator, useValue: database },
        { provide: KeyringHealthIndicator, useValue: keyring },
        { provide: AuditSinksHealthIndicator, useValue: auditSinks },
        { provide: RotationHealthIndicator, useValue: rotation },
      ],
    });
  });

  afterAll(async () => {
    await app?.close();
  });

  beforeEach(() => {
    jest.clearAllMocks();
  });

  describe('GET /api/v1/health/live', () => {
    it('should answer 200 without running any indicator', async () => {
      const response = await app.inject({ method: 'GET', url: '/api/v1/health/live' });

      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({ status: 'ok', info: {}, error: {}, details: {} });
      expect(database.pingCheck).not.toHaveBeenCalled();
      expect(keyring.check).not.toHaveBeenCalled();
      expect(auditSinks.check).not.toHaveBeenCalled();
      expect(rotation.check).not.toHaveBeenCalled();
    });
  });

  describe('GET /api/v1/health/ready', () => {
    it('should answer 200 when the database, the keyring and the audit sinks are up', async () => {
      arrange({ database: databaseUp(), keyring: keyringUp(), auditSinks: sinksUp() });

      const response = await app.inject({ method: 'GET', url: '/api/v1/health/ready' });

      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({
        status: 'ok',
        info: {
          database: { status: 'up', responseTime: 1 },
          keyring: { status: 'up', sealed: false, keyId: 'k1' },
          auditSinks: { status: 'up', backlog: { file: 0 } },
          rotation: { status: 'up', overdue: 0, oldestOverdueSeconds: 0 },
        },
        error: {},
        details: {
          database: { status: 'up', responseTime: 1 },
          keyring: { status: 'up', sealed: false, keyId: 'k1' },
          auditSinks: { status: 'up', backlog: { file: 0 } },
          rotation: { status: 'up', overdue: 0, oldestOverdueSeconds: 0 },
        },
      });
      expect(database.pingCheck).toHaveBeenCalledWith('database');
      expect(withTimeout).toHaveBeenCalledWith(2000);
      expect(keyring.check).toHaveBeenCalledWith('keyring');
      expect(auditSinks.check).toHaveBeenCalledWith('auditSinks');
      expect(rotation.check).toHaveBeenCalledWith('rotation');
    });

    it('should answer 503 in the common error shape naming the sealed keyring', async () => {
      arrange({ database: databaseUp(), keyring: keyringSealed(), auditSinks: sinksUp() });

      const response = await app.inject({ method: 'GET', url: '/api/v1/health/ready' });

      expect(response.statusCode).toBe(503);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(response.json()).toEqual({
        statusCode: 503,
        error: 'Service Unavailable',
        message:
          'Not ready: Custos is sealed: the master key does not match the stored check value',
        requestId: expect.any(String),
        details: {
          database: { status: 'up', responseTime: 1 },
          keyring: {
            status: 'down',
            sealed: true,
            message: 'Custos is sealed: the master key does not match the stored check value',
          },
          auditSinks: { status: 'up', backlog: { file: 0 } },
          rotation: { status: 'up', overdue: 0, oldestOverdueSeconds: 0 },
        },
      });
    });

    it('should answer 503 naming every failing check when the database is down too', async () => {
      arrange({ database: databaseDown(), keyring: keyringSealed(), auditSinks: sinksUp() });

      const response = await app.inject({ method: 'GET', url: '/api/v1/health/ready' });

      expect(response.statusCode).toBe(503);
      const body = response.json();
      expect(body.message).toBe(
        'Not ready: database is down; ' +
          'Custos is sealed: the master key does not match the stored check value',
      );
      // The driver's own text (hosts, users) never reaches an unauthenticated caller.
      expect(JSON.stringify(body)).not.toContain('timeout of 2000ms');
      expect(body.details.database).toEqual({ status: 'down' });
      expect(body.details.keyring).toMatchObject({ status: 'down', sealed: true });
    });

    it('should name a failing check by its key when it gives no message', async () => {
      arrange({
        database: indicators.check('database').down(),
        keyring: keyringUp(),
        auditSinks: sinksUp(),
      });

      const response = await app.inject({ method: 'GET', url: '/api/v1/health/ready' });

      expect(response.statusCode).toBe(503);
      expect(response.json()).toMatchObject({
        statusCode: 503,
        message: 'Not ready: database is down',
        details: { database: { status: 'down' } },
      });
    });

    it('should keep 200 when the audit sinks are degraded and report their backlog', async () => {
      arrange({ database: databaseUp(), keyring: keyringUp(), auditSinks: sinksLagging() });

      const response = await app.inject({ method: 'GET', url: '/api/v1/health/ready' });

      expect(response.statusCode).toBe(200);
      const body = response.json();
      expect(body.status).toBe('degraded');
      expect(body.error).toEqual({});
      expect(body.details.auditSinks).toEqual({
        status: 'degraded',
        backlog: { file: 25_000 },
        message: 'audit sinks lagging: file',
      });
    });

    it('should keep 200 when rotations are overdue, saying degraded with the count and the oldest age', async () => {
      arrange({
        database: databaseUp(),
        keyring: keyringUp(),
        auditSinks: sinksUp(),
        rotation: rotationOverdue(),
      });

      const response = await app.inject({ method: 'GET', url: '/api/v1/health/ready' });

      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({
        status: 'degraded',
        info: {
          database: { status: 'up', responseTime: 1 },
          keyring: { status: 'up', sealed: false, keyId: 'k1' },
          auditSinks: { status: 'up', backlog: { file: 0 } },
          rotation: {
            status: 'degraded',
            overdue: 2,
            oldestOverdueSeconds: 5400,
            message: '2 credential(s) overdue for rotation, the oldest for 5400 s',
          },
        },
        error: {},
        details: {
          database: { status: 'up', responseTime: 1 },
          keyring: { status: 'up', sealed: false, keyId: 'k1' },
          auditSinks: { status: 'up', backlog: { file: 0 } },
          rotation: {
            status: 'degraded',
            overdue: 2,
            oldestOverdueSeconds: 5400,
            message: '2 credential(s) overdue for rotation, the oldest for 5400 s',
          },
        },
      });
    });

    it('should keep the overdue rotations in the details of a 503 for another reason', async () => {
      arrange({
        database: databaseDown(),
        keyring: keyringUp(),
        auditSinks: sinksUp(),
        rotation: rotationOverdue(),
      });

      const response = await app.inject({ method: 'GET', url: '/api/v1/health/ready' });

      expect(response.statusCode).toBe(503);
      const body = response.json();
      expect(body.message).toBe('Not ready: database is down');
      expect(body.details.rotation).toEqual({
        status: 'degraded',
        overdue: 2,
        oldestOverdueSeconds: 5400,
        message: '2 credential(s) overdue for rotation, the oldest for 5400 s',
      });
    });
  });
});
