import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { ScratchDatabase } from '../src/database/cli/scratch-database';
import { openDirect } from './helpers/audit-db';
import {
  bootstrapAdmin,
  call,
  countsByCredential,
  expectCall,
  Headers,
  Query,
  rotationActions,
  until,
  versionStates,
  versionViolations,
} from './helpers/rotation-checks';
import { ensureBuilt, freePort, spawnApp, SpawnedApp, waitForHttp } from './helpers/spawned-app';
import { randomMasterKey, scratchMariadb } from './helpers/test-app';

interface RunRow {
  id: string;
  status: string;
  step: string;
  attempt: number;
  pending_version: number | null;
  claimed_by: string | null;
  claim_expires_at: Date | null;
  finished_at: Date | null;
}

/**
 * kill -9 in the middle of a rotation: the built app, with a test-only failpoint that SIGKILLs
 * the process right after a step committed, and then the same app restarted without it, or a
 * second instance that was running all along, finishing the run from the step it reached.
 */
describe('Rotation after a crash (spawned processes, MariaDB)', () => {
  let database: ScratchDatabase;
  let db: DataSource;
  let query: Query;
  const dataDirs: string[] = [];
  const running: SpawnedApp[] = [];
  let env: Record<string, string>;
  let admin: Headers;

  beforeAll(async () => {
    ensureBuilt();
    database = await scratchMariadb();
    db = await openDirect(database);
    query = (sql, params) => db.query(sql, params);
    env = {
      DATABASE_URL: database.url!,
      CUSTOS_MASTER_KEY: randomMasterKey(),
      JWT_SECRET: randomBytes(48).toString('base64'),
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      THROTTLE_LIMIT: '100000',
      ROTATION_TICK: 'PT1S',
      // The shortest claim, so another instance takes a dead one's run over quickly.
      ROTATION_CLAIM_TTL: 'PT2S',
    };
    const first = await start();
    admin = await bootstrapAdmin(first.baseUrl, dataDirs[0]);
    await stop(first);
  }, 120_000);

  afterEach(async () => {
    await Promise.all(running.splice(0).map((app) => app.stop('SIGKILL')));
  });

  afterAll(async () => {
    await db?.destroy();
    await database?.drop();
    for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
  });

  /** An instance of the built app on the shared database, with its own data directory. */
  async function start(extra: Record<string, string> = {}): Promise<SpawnedApp> {
    const dataDir = mkdtempSync(join(tmpdir(), 'custos-crash-'));
    dataDirs.push(dataDir);
    const app = spawnApp({ ...env, CUSTOS_DATA_DIR: dataDir, ...extra }, await freePort());
    running.push(app);
    await waitForHttp(app, '/api/v1/health/live');
    return app;
  }

  async function stop(app: SpawnedApp): Promise<void> {
    expect(await app.stop()).toBe(0);
    running.splice(running.indexOf(app), 1);
  }

  /** A password credential with a generated policy (grace an hour), not due. */
  async function credential(app: SpawnedApp, path: string): Promise<string> {
    const { id } = await expectCall<{ id: string }>(
      201,
      app.baseUrl,
      'POST',
      '/credentials',
      admin,
      {
        path,
        name: path,
        type: 'password',
        secret: { password: `pw-${path}` },
      },
    );
    await expectCall(200, app.baseUrl, 'PUT', `/credentials/${id}/rotation`, admin, {
      enabled: true,
      interval: 'P30D',
      gracePeriod: 'PT1H',
      rotator: { kind: 'generated' },
    });
    return id;
  }

  /**
   * Asks `app` to rotate the credential; the process may die before it answers (the run starts
   * at once, beside the response), so the run is read from the database either way.
   */
  async function rotate(app: SpawnedApp, id: string): Promise<string> {
    const answer = await call<{ runId: string }>(
      app.baseUrl,
      'POST',
      `/credentials/${id}/rotate`,
      admin,
      {
        reason: 'crash test',
      },
    ).catch(() => undefined);
    if (answer) expect(answer.status).toBe(202);
    const [run] = await db.query<{ id: string }[]>(
      'SELECT id FROM rotation_runs WHERE credential_id = ?',
      [id],
    );
    if (answer) expect(run.id).toBe(answer.body.runId);
    return run.id;
  }

  async function run(id: string): Promise<RunRow> {
    const [row] = await db.query<RunRow[]>('SELECT * FROM rotation_runs WHERE id = ?', [id]);
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

  /** The sealed bytes of a version, to tell the value stored before the crash from a new one. */
  async function sealed(id: string, version: number): Promise<string> {
    const [row] = await db.query<{ ciphertext: Buffer }[]>(
      'SELECT ciphertext FROM credential_versions WHERE credential_id = ? AND version = ?',
      [id, version],
    );
    return row.ciphertext.toString('hex');
  }

  /**
   * The invariants after the run finished: versions 1 previous and 2 current, both revealable,
   * each milestone recorded once, and the audit chain whole.
   */
  async function expectRotatedOnce(app: SpawnedApp, id: string, runId: string): Promise<void> {
    expect(await versionStates(query, id)).toEqual({ 1: 'previous', 2: 'current' });
    expect(await versionViolations(query, [id])).toEqual([]);
    const kept = await db.query<{ version: number }[]>(
      "SELECT version FROM credential_versions WHERE credential_id = ? AND state <> 'destroyed'",
      [id],
    );
    const values = new Set<string>();
    for (const { version } of kept) {
      const revealed = await expectCall<{ version: number; secret: { password: string } }>(
        200,
        app.baseUrl,
        'POST',
        `/credentials/${id}/reveal`,
        admin,
        { version, reason: 'crash test' },
      );
      expect(revealed.version).toBe(version);
      values.add(revealed.secret.password);
    }
    expect(values.size).toBe(kept.length);
    expect(await rotationActions(query, id)).toEqual(['rotation.started', 'rotation.succeeded']);
    for (const type of ['rotation.started', 'rotation.succeeded']) {
      expect((await countsByCredential(query, 'event_outbox', type)).get(id)).toBe(1);
    }
    const [succeeded] = await db.query<{ details: string }[]>(
      "SELECT details FROM audit_events WHERE resource_id = ? AND action = 'rotation.succeeded'",
      [id],
    );
    expect(JSON.parse(succeeded.details)).toMatchObject({ runId, version: 2, previousVersion: 1 });
    const verified = await expectCall(200, app.baseUrl, 'POST', '/audit/verify', admin, {});
    expect(verified).toMatchObject({ ok: true });
  }

  const CRASHES = [
    { failpoint: 'rotation.after-create', resumesAt: 'apply' },
    { failpoint: 'rotation.after-apply', resumesAt: 'test' },
    { failpoint: 'rotation.after-test', resumesAt: 'finish' },
  ] as const;

  it.each(CRASHES)(
    'should finish a run killed at $failpoint from its $resumesAt step after a restart',
    async ({ failpoint, resumesAt }) => {
      const doomed = await start({ CUSTOS_FAILPOINTS: failpoint });
      const id = await credential(doomed, `crash/${failpoint}`);
      const runId = await rotate(doomed, id);
      await killedBySelf(doomed);

      const stopped = await run(runId);
      expect(stopped).toMatchObject({
        status: 'running',
        step: resumesAt,
        attempt: 1,
        pending_version: 2,
      });
      expect(stopped.claimed_by).not.toBeNull();
      expect(await versionStates(query, id)).toEqual({ 1: 'current', 2: 'pending' });
      expect(await versionViolations(query, [id])).toEqual([]);
      const pendingValue = await sealed(id, 2);

      const restarted = await start();
      const done = await until(
        async () => {
          const current = await run(runId);
          return current.status === 'running' ? undefined : current;
        },
        20_000,
        'the run to finish after the restart',
      );
      // Resumed where it stopped: the same attempt, and the value stored before the crash.
      expect(done).toMatchObject({
        status: 'succeeded',
        step: 'done',
        attempt: 1,
        pending_version: 2,
      });
      expect(done.claimed_by).toBeNull();
      expect(await sealed(id, 2)).toBe(pendingValue);
      await expectRotatedOnce(restarted, id, runId);
      await stop(restarted);
    },
    60_000,
  );

  it('should let a second instance take over the run of a killed one once its claim expires', async () => {
    const [survivor, doomed] = await Promise.all([
      start(),
      start({ CUSTOS_FAILPOINTS: 'rotation.after-apply' }),
    ]);
    const id = await credential(doomed, 'crash/takeover');
    const runId = await rotate(doomed, id);
    await killedBySelf(doomed);

    const stopped = await run(runId);
    expect(stopped).toMatchObject({ status: 'running', step: 'test', attempt: 1 });
    const done = await until(
      async () => {
        const current = await run(runId);
        return current.status === 'running' ? undefined : current;
      },
      20_000,
      'the survivor to finish the run',
    );
    expect(done).toMatchObject({
      status: 'succeeded',
      step: 'done',
      attempt: 1,
      pending_version: 2,
    });
    // Not before the dead instance's claim ran out.
    expect(done.finished_at!.getTime()).toBeGreaterThanOrEqual(stopped.claim_expires_at!.getTime());
    await expectRotatedOnce(survivor, id, runId);
    await stop(survivor);
  }, 60_000);

  it('should finish every run a killed instance left mid-tick, whatever step each had reached', async () => {
    const doomed = await start({ CUSTOS_FAILPOINTS: 'rotation.after-apply' });
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) ids.push(await credential(doomed, `crash/fleet/${i}`));
    await db.query(
      'UPDATE credentials SET next_rotation_at = UTC_TIMESTAMP(3) - INTERVAL 1 SECOND ' +
        'WHERE path LIKE ?',
      ['crash/fleet/%'],
    );
    // Its next tick opens a batch of runs and works on several at once; the first to get past
    // apply kills the process, leaving the others wherever they were.
    await killedBySelf(doomed);
    const left = await db.query<RunRow[]>(
      "SELECT * FROM rotation_runs WHERE credential_id IN (?) AND status = 'running'",
      [ids],
    );
    expect(left.length).toBeGreaterThan(1);
    expect(left.map((r) => r.step)).toContain('test');
    expect(new Set(left.map((r) => r.claimed_by)).size).toBe(1);
    expect(await versionViolations(query, ids)).toEqual([]);

    const survivor = await start();
    await until(
      async () => {
        const [row] = await db.query<{ n: number }[]>(
          "SELECT COUNT(*) AS n FROM rotation_runs WHERE credential_id IN (?) AND status = 'succeeded'",
          [ids],
        );
        return Number(row.n) === ids.length ? true : undefined;
      },
      30_000,
      'every run to succeed',
    );
    const runs = await db.query<(RunRow & { credential_id: string })[]>(
      'SELECT * FROM rotation_runs WHERE credential_id IN (?)',
      [ids],
    );
    expect(runs).toHaveLength(ids.length);
    expect(runs.filter((r) => r.status !== 'succeeded' || Number(r.attempt) !== 1)).toEqual([]);
    expect(new Set(runs.map((r) => r.credential_id))).toEqual(new Set(ids));
    const versions = await db.query<{ credential_id: string; states: string }[]>(
      "SELECT credential_id, GROUP_CONCAT(version, ':', state ORDER BY version) AS states " +
        'FROM credential_versions WHERE credential_id IN (?) GROUP BY credential_id',
      [ids],
    );
    expect(versions.filter((row) => row.states !== '1:previous,2:current')).toEqual([]);
    expect(await versionViolations(query, ids)).toEqual([]);
    for (const action of ['rotation.started', 'rotation.succeeded']) {
      const counts = await countsByCredential(query, 'audit_events', action);
      expect(ids.filter((id) => counts.get(id) !== 1)).toEqual([]);
    }
    const verified = await expectCall(200, survivor.baseUrl, 'POST', '/audit/verify', admin, {});
    expect(verified).toMatchObject({ ok: true });
    await stop(survivor);
  }, 60_000);
});
