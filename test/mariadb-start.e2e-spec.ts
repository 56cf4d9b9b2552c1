import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as mysql from 'mysql2/promise';
import { DEFAULT_MARIADB_SERVER_URL } from '../src/database/cli/scratch-database';
import { ensureBuilt, freePort, spawnApp, waitForHttp } from './helpers/spawned-app';

describe('Start on MariaDB (spawned process)', () => {
  const server = (process.env.MARIADB_TEST_URL ?? DEFAULT_MARIADB_SERVER_URL).replace(/\/+$/, '');
  const name = `custos_test_${randomBytes(6).toString('hex')}`;
  let dataDir: string;

  beforeAll(() => {
    ensureBuilt();
    dataDir = mkdtempSync(join(tmpdir(), 'custos-maria-'));
  });

  afterAll(async () => {
    rmSync(dataDir, { recursive: true, force: true });
    const connection = await mysql.createConnection(server);
    await connection.query(`DROP DATABASE IF EXISTS \`${name}\``);
    await connection.end();
  });

  it('should create a new database, migrate it and answer ready', async () => {
    const app = spawnApp(
      {
        DATABASE_URL: `${server}/${name}`,
        CUSTOS_DATA_DIR: dataDir,
        CUSTOS_MASTER_KEY: randomBytes(32).toString('base64'),
      },
      await freePort(),
    );
    try {
      await waitForHttp(app, '/api/v1/health/live');
      expect((await fetch(`${app.baseUrl}/api/v1/health/ready`)).status).toBe(200);
    } finally {
      expect(await app.stop()).toBe(0);
    }
    const connection = await mysql.createConnection(`${server}/${name}`);
    const [rows] = await connection.query('SELECT name FROM schema_migrations ORDER BY id');
    await connection.end();
    expect((rows as { name: string }[]).length).toBeGreaterThan(0);
  });
});
