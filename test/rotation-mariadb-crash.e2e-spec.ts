import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { ScratchDatabase } from '../src/database/cli/scratch-database';
import { openDirect } from './helpers/audit-db';
import { canLogin, DbLogin, targetServer, TestUsers } from './helpers/mariadb-users';
import {
  bootstrapAdmin,
  call,
  expectCall,
  Headers,
  until,
  versionStates,
} from './helpers/rotation-checks';
import { ensureBuilt, freePort, spawnApp, SpawnedApp, waitForHttp } from './helpers/spawned-app';
import { randomMasterKey, scratchMariadb } from './helpers/test-app';

interface RunRow {
  status: string;
  step: string;
  attempt: number;
  pending_version: number | null;
  error: string | null;
}

/**
 * kill -9 in the middle of a mariadb rotation (the built app with a test-only failpoint), then a
 * restart: the run resumes where it stopped, and at no moment is the user in service locked out.
 */
describe('mariadb rotator after a crash (spawned processes, MariaDB)', () => {
  let database: ScratchDatabase;
  let db: DataSource;
  const dataDirs: string[] = [];
  const running: SpawnedApp[] = [];
  const users = new TestUsers();
  let env: Record<string, string>;
  let admin: Headers;
  let adminCredentialId: string;

  beforeAll(async () => {
    ensureBuilt();
    database = await scratchMariadb();
    db = await openDirect(database);
    env = {
      DATABASE_URL: database.url!,
      CUSTOS_MASTER_KEY: randomMasterKey(),
      JWT_SECRET: randomBytes(48).toString('base64'),
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      THROTTLE_LIMIT: '100000',
      ROTATION_TICK: 'PT1S',
      ROTATION_CLAIM_TTL: 'PT2S',
      // The test server is on this machine.
      CUSTOS_OUTBOUND_ALLOW_LOOPBACK: 'true',
    };
    const seed = await start();
    admin = await bootstrapAdmin(seed.baseUrl, dataDirs[0]);
    const login = await users.create('adm', ['CREATE USER ON *.*', 'SELECT ON mysql.user']);
    adminCredentialId = (
      await expectCall<{ id: string }>(201, seed.baseUrl, 'POST', '/credentials', admin, {
        path: 'db/admin',
        name: 'admin',
        type: 'password',
        username: login.user,
        secret: { password: login.password },
      })
    ).id;
    // Stopped, so that no instance but the ones a test starts works on its runs.
    expect(await seed.stop()).toBe(0);
    running.splice(running.indexOf(seed), 1);
  }, 120_000);

  afterEach(async () => {
    await Promise.all(running.splice(0).map((app) => app.stop('SIGKILL')));
  });

  afterAll(async () => {
    await db?.destroy();
    await database?.drop();
    await users.drop();
    for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
  });

  async function start(extra: Record<string, string> = {}): Promise<SpawnedApp> {
    const dataDir = mkdtempSync(join(tmpdir(), 'custos-mariadb-crash-'));
    dataDirs.push(dataDir);
    const app = spawnApp({ ...env, CUSTOS_DATA_DIR: dataDir, ...extra }, await freePort());
    running.push(app);
    await waitForHttp(app, '/api/v1/health/live');
    return app;
  }

  /** Two users, a credential in service as the first, and a mariadb policy (grace an hour). */
  async function pair(app: SpawnedApp, name: string) {
    const a = await users.create(`${name}_a`, ['USAGE ON *.*']);
    const b = await users.create(`${name}_b`, ['USAGE ON *.*']);
    const { id } = await expectCall<{ id: string }>(
      201,
      app.baseUrl,
      'POST',
      '/credentials',
      admin,
      {
        path: `db/${name}`,
        name,
        type: 'password',
        username: a.user,
        secret: { password: a.password },
      },
    );
    const { host, port } = targetServer();
    await expectCall(200, app.baseUrl, 'PUT', `/credentials/${id}/rotation`, admin, {
      enabled: true,
      interval: 'P30D',
      gracePeriod: 'PT1H',
      rotator: { kind: 'mariadb', adminCredentialId, host, port, users: [a.user, b.user] },
    });
    return { id, a, b };
  }

  /** Asks for a rotation; the process may die before it answers, so the run is read from the database. */
  async function rotate(app: SpawnedApp, id: string): Promise<string> {
    await call(app.baseUrl, 'POST', `/credentials/${id}/rotate`, admin, {}).catch(() => undefined);
    const [run] = await db.query<{ id: string }[]>(
      'SELECT id FROM rotation_runs WHERE credential_id = ?',
      [id],
    );
    return run.id;
  }

  async function run(runId: string): Promise<RunRow> {
    const [row] = await db.query<RunRow[]>('SELECT * FROM rotation_runs WHERE id = ?', [runId]);
    return row;
  }

  async function killedBySelf(app: SpawnedApp): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      app.exited,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`still alive:\n${app.output()}`)), 15_000);
      }),
    ]).finally(() => clearTimeout(timer));
    expect(app.process.signalCode).toBe('SIGKILL');
    running.splice(running.indexOf(app), 1);
  }

  function finished(runId: string): Promise<RunRow> {
    return until(async () => {
      const current = await run(runId);
      return current.status === 'running' ? undefined : current;
    });
  }

  async function currentPassword(app: SpawnedApp, id: string): Promise<string> {
    const body = await expectCall<{ secret: { password: string } }>(
      200,
      app.baseUrl,
      'POST',
      `/credentials/${id}/reveal`,
      admin,
      { reason: 'crash test' },
    );
    return body.secret.password;
  }

  /** After the restart: b in service with the value stored before the crash, a still working. */
  async function expectSwitched(app: SpawnedApp, id: string, a: DbLogin, b: DbLogin) {
    expect(await versionStates((sql, p) => db.query(sql, p), id)).toEqual({
      1: 'previous',
      2: 'current',
    });
    const password = await currentPassword(app, id);
    expect(await canLogin({ user: b.user, password })).toBe(true);
    expect(await canLogin(a)).toBe(true);
    const metadata = await expectCall<{ username: string }>(
      200,
      app.baseUrl,
      'GET',
      `/credentials/${id}`,
      admin,
    );
    expect(metadata.username).toBe(b.user);
  }

  it.each(['rotation.after-apply', 'rotation.after-test'])(
    'should finish a run killed at %s after a restart, the user in service working throughout',
    async (failpoint) => {
      const doomed = await start({ CUSTOS_FAILPOINTS: failpoint });
      const { id, a, b } = await pair(doomed, failpoint.replace(/\W/g, '_'));
      const runId = await rotate(doomed, id);
      await killedBySelf(doomed);

      expect(await run(runId)).toMatchObject({ status: 'running', pending_version: 2 });
      // b has the pending password already; a, the user in service, was never touched.
      expect(await canLogin(a)).toBe(true);
      expect(await canLogin(b)).toBe(false);

      const restarted = await start();
      expect(await finished(runId)).toMatchObject({ status: 'succeeded', attempt: 1 });
      await expectSwitched(restarted, id, a, b);
    },
    60_000,
  );

  it('should repeat an apply whose step was never recorded without changing what it did', async () => {
    const doomed = await start({ CUSTOS_FAILPOINTS: 'rotation.after-apply' });
    const { id, a, b } = await pair(doomed, 'unrecorded');
    const runId = await rotate(doomed, id);
    await killedBySelf(doomed);
    // As if the process had died after changing the password but before recording the step.
    await db.query("UPDATE rotation_runs SET step = 'apply' WHERE id = ?", [runId]);

    const restarted = await start();

    expect(await finished(runId)).toMatchObject({ status: 'succeeded', attempt: 1, error: null });
    await expectSwitched(restarted, id, a, b);
  }, 60_000);
});
