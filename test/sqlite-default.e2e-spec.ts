import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ensureBuilt,
  freePort,
  MAIN,
  spawnApp,
  SpawnedApp,
  waitForHttp,
} from './helpers/spawned-app';

/** The app as a new user starts it: the built entry point, the SQLite default, no set-up. */
describe('Embedded SQLite default (spawned process)', () => {
  let dataDir: string;

  beforeAll(() => {
    ensureBuilt();
    dataDir = mkdtempSync(join(tmpdir(), 'custos-smoke-'));
  });

  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  async function started(env: Record<string, string> = {}): Promise<SpawnedApp> {
    const app = spawnApp({ CUSTOS_DATA_DIR: dataDir, LOG_LEVEL: 'info', ...env }, await freePort());
    await waitForHttp(app, '/api/v1/health/live');
    return app;
  }

  it('should come up ready, creating the database and a development key', async () => {
    const app = await started();
    try {
      const response = await fetch(`${app.baseUrl}/api/v1/health/ready`);
      expect(response.status).toBe(200);
      expect(statSync(join(dataDir, 'custos.sqlite')).isFile()).toBe(true);
      expect(statSync(join(dataDir, 'master.key')).mode & 0o777).toBe(0o600);
      const key = readFileSync(join(dataDir, 'master.key'), 'utf8').trim();
      expect(app.output()).toContain('Generated a development master key');
      expect(app.output()).not.toContain(key);
      // The first admin's password is in a file only the service user can read, never in the log.
      const adminPassword = join(dataDir, 'initial-admin-password');
      expect(statSync(adminPassword).mode & 0o777).toBe(0o600);
      expect(app.output()).toContain(adminPassword);
      expect(app.output()).not.toContain(readFileSync(adminPassword, 'utf8').trim());
    } finally {
      expect(await app.stop()).toBe(0);
    }
  });

  it('should reuse its key and schema on the next start', async () => {
    const app = await started();
    try {
      expect((await fetch(`${app.baseUrl}/api/v1/health/ready`)).status).toBe(200);
      expect(app.output()).not.toContain('Generated a development master key');
    } finally {
      await app.stop();
    }
  });

  it('should log JSON lines with the request id and without the authorization header', async () => {
    const app = await started();
    try {
      await fetch(`${app.baseUrl}/api/v1/nothing-here`, {
        headers: {
          'x-request-id': 'smoke-trace-1',
          authorization: 'Bearer top-secret-token-value',
        },
      });
      await new Promise((resolve) => setTimeout(resolve, 200));
    } finally {
      await app.stop();
    }
    const line = app
      .output()
      .split('\n')
      .find((text) => text.includes('smoke-trace-1'));
    expect(line).toBeDefined();
    expect(JSON.parse(line!)).toMatchObject({
      requestId: 'smoke-trace-1',
      res: { statusCode: 404 },
    });
    expect(app.output()).not.toContain('top-secret-token-value');
  });

  it('should log in with the bootstrap password and never log passwords or tokens', async () => {
    const app = await started();
    try {
      const password = readFileSync(join(dataDir, 'initial-admin-password'), 'utf8').trim();
      const login = await fetch(`${app.baseUrl}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'admin@localhost', password }),
      });
      expect(login.status).toBe(200);
      const tokens = (await login.json()) as { accessToken: string; refreshToken: string };
      const me = await fetch(`${app.baseUrl}/api/v1/auth/me`, {
        headers: { authorization: `Bearer ${tokens.accessToken}` },
      });
      expect(me.status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 200));
      for (const secret of [password, tokens.accessToken, tokens.refreshToken]) {
        expect(app.output()).not.toContain(secret);
      }
    } finally {
      await app.stop();
    }
  });

  it('should create a user from the command line, with no bootstrap admin', async () => {
    const fresh = mkdtempSync(join(tmpdir(), 'custos-cli-'));
    try {
      const output = execFileSync(
        process.execPath,
        [
          MAIN.replace('main.js', 'cli/cli.js'),
          'user:create',
          '--email',
          'ops@example.test',
          '--role',
          'admin',
        ],
        { env: { PATH: process.env.PATH ?? '', CUSTOS_DATA_DIR: fresh }, encoding: 'utf8' },
      );
      expect(output).toMatch(/Created admin ops@example\.test/);
      const password = /Password \(shown once[^:]*\): (\S+)/.exec(output)?.[1];
      expect(password).toBeDefined();
      expect(existsSync(join(fresh, 'initial-admin-password'))).toBe(false);
      const app = spawnApp({ CUSTOS_DATA_DIR: fresh }, await freePort());
      try {
        await waitForHttp(app, '/api/v1/health/live');
        const login = await fetch(`${app.baseUrl}/api/v1/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email: 'ops@example.test', password }),
        });
        expect(login.status).toBe(200);
        expect(((await login.json()) as { mustChangePassword: boolean }).mustChangePassword).toBe(
          true,
        );
      } finally {
        await app.stop();
      }
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  });

  it.each([
    [{ PORT: 'not-a-port' }, /PORT: .*integer/],
    [{ LOG_LEVEL: 'chatty' }, /LOG_LEVEL: /],
    [{ NODE_ENV: 'production' }, /DATABASE_URL: must be set in production/],
    [
      { DATABASE_URL: 'postgres://db/custos' },
      /DATABASE_URL: must be a mysql:\/\/ or mariadb:\/\/ URL/,
    ],
    [{ CUSTOS_MASTER_KEY: 'too-short' }, /CUSTOS_MASTER_KEY: must be 32 bytes/],
  ])(
    'should refuse to start on bad configuration %j, naming the variable',
    async (env, message) => {
      const app = spawnApp({ CUSTOS_DATA_DIR: dataDir, ...env }, await freePort());
      expect(await app.exited).toBe(1);
      expect(app.output()).toMatch(message);
      expect(app.output()).not.toContain('too-short');
    },
  );

  it('should start sealed in production on SQLite when allowed but given no key', async () => {
    const app = await started({
      NODE_ENV: 'production',
      DB_ALLOW_SQLITE_IN_PRODUCTION: 'true',
      JWT_SECRET: 'x'.repeat(40),
    });
    try {
      const response = await fetch(`${app.baseUrl}/api/v1/health/ready`);
      expect(response.status).toBe(503);
      expect(((await response.json()) as { message: string }).message).toMatch(/sealed/);
    } finally {
      await app.stop();
    }
  });
});
