import { DataSource } from 'typeorm';
import { ScratchDatabase } from '../src/database/cli/scratch-database';
import { buildDataSourceOptions } from '../src/database/data-source-options';
import { ProbeAppModule } from './helpers/probe.controller';
import { randomMasterKey, scratchMariadb, startApp, TestApp } from './helpers/test-app';

describe('Sealed state (MariaDB)', () => {
  const rightKey = randomMasterKey();
  let database: ScratchDatabase;
  let db: DataSource;

  const start = (env: Record<string, string | undefined>): Promise<TestApp> =>
    startApp(database, { rootModule: ProbeAppModule, env });

  const keyringRows = (): Promise<{ id: string; check_value: string }[]> =>
    db.query('SELECT id, status, check_value FROM keyring ORDER BY id');

  beforeAll(async () => {
    database = await scratchMariadb();
    const first = await start({ CUSTOS_MASTER_KEY: rightKey });
    await first.http.get('/api/v1/health/ready').expect(200);
    await first.close();
    db = new DataSource(buildDataSourceOptions(database.config));
    await db.initialize();
  });

  afterAll(async () => {
    await db?.destroy();
    await database?.drop();
  });

  it('should store a check value of the key on first start, never the key', async () => {
    const rows = await keyringRows();
    expect(rows).toEqual([{ id: 'k1', status: 'active', check_value: expect.any(String) }]);
    const key = Buffer.from(rightKey, 'base64');
    const everything = JSON.stringify(rows);
    for (const encoding of ['base64', 'hex', 'base64url'] as const) {
      expect(everything).not.toContain(key.toString(encoding));
    }
  });

  describe('with a key that does not match the check value', () => {
    let sut: TestApp;

    beforeAll(async () => {
      sut = await start({ CUSTOS_MASTER_KEY: randomMasterKey() });
    });

    afterAll(() => sut.close());

    it('should say so on readiness with 503', async () => {
      const response = await sut.http.get('/api/v1/health/ready').expect(503);
      expect(response.body).toMatchObject({ statusCode: 503, error: 'Service Unavailable' });
      expect(response.body.message).toMatch(
        /sealed: the master key does not match the stored check value/,
      );
      expect(response.body.details.keyring).toMatchObject({ status: 'down', sealed: true });
      expect(response.body.details.database.status).toBe('up');
    });

    it('should still answer liveness', async () => {
      await sut.http.get('/api/v1/health/live').expect(200);
    });

    it('should answer every other API route with 503, before any handler runs', async () => {
      for (const [method, path] of [
        ['get', '/api/v1/anything'],
        ['post', '/api/v1/probe/echo'],
        ['get', '/api/v1/probe/crash'],
      ] as const) {
        const response = await sut.http[method](path).send({ name: 'x' }).expect(503);
        expect(response.body).toEqual({
          statusCode: 503,
          error: 'Service Unavailable',
          message: expect.stringMatching(/^Custos is sealed: /),
          requestId: response.headers['x-request-id'],
        });
      }
    });

    it('should not change the keyring', async () => {
      expect(await keyringRows()).toHaveLength(1);
    });
  });

  it('should start sealed in production when no key is configured', async () => {
    const sut = await start({
      NODE_ENV: 'production',
      CUSTOS_MASTER_KEY: undefined,
      JWT_SECRET: 'a'.repeat(40),
    });
    try {
      const response = await sut.http.get('/api/v1/health/ready').expect(503);
      expect(response.body.message).toMatch(/sealed: no master key is configured/);
      await sut.http.get('/api/v1/anything').expect(503);
    } finally {
      await sut.close();
    }
  });

  it('should refuse a key id that is not in the keyring', async () => {
    const sut = await start({ CUSTOS_MASTER_KEY: rightKey, CUSTOS_MASTER_KEY_ID: 'k2' });
    try {
      const response = await sut.http.get('/api/v1/health/ready').expect(503);
      expect(response.body.message).toMatch(/the active master key "k1" is not configured/);
    } finally {
      await sut.close();
    }
    expect((await keyringRows()).map((row) => row.id)).toEqual(['k1']);
  });

  it('should unseal when restarted with the right key', async () => {
    const sut = await start({ CUSTOS_MASTER_KEY: rightKey });
    try {
      await sut.http.get('/api/v1/health/ready').expect(200);
      await sut.http.post('/api/v1/probe/echo').send({ name: 'open' }).expect(201);
    } finally {
      await sut.close();
    }
  });
});
