import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

interface RunRow {
  id: string;
  status: string;
  step: string;
  attempt: number;
  triggered_by: string;
  emergency: number;
}

interface Revealed {
  version: number;
  secret: { password: string };
}

/**
 * The embedded SQLite default, as a new user runs it (no DATABASE_URL), rotates too: its own
 * scheduler timer picks up a due credential, emergencies revoke at once, and a manual run waits
 * for the value a person writes.
 */
describe('Rotation on the embedded SQLite default (spawned process)', () => {
  let dataDir: string;
  let app: SpawnedApp;
  let sqlite: Database.Database;
  let query: Query;
  let admin: Headers;

  beforeAll(async () => {
    ensureBuilt();
    dataDir = mkdtempSync(join(tmpdir(), 'custos-rot-sqlite-'));
    app = spawnApp(
      {
        CUSTOS_DATA_DIR: dataDir,
        LOG_LEVEL: 'warn',
        THROTTLE_LIMIT: '100000',
        ROTATION_TICK: 'PT1S',
      },
      await freePort(),
    );
    await waitForHttp(app, '/api/v1/health/live');
    admin = await bootstrapAdmin(app.baseUrl, dataDir);
    // The app's own file, beside it (WAL lets both read; writes wait for each other).
    sqlite = new Database(join(dataDir, 'custos.sqlite'), { timeout: 5_000 });
    query = <T>(sql: string, params: unknown[] = []) =>
      Promise.resolve(sqlite.prepare(sql).all(...params) as T[]);
  }, 120_000);

  afterAll(async () => {
    sqlite?.close();
    if (app) expect(await app.stop()).toBe(0);
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function credential(path: string, policy?: Record<string, unknown>): Promise<string> {
    const { id } = await expectCall<{ id: string }>(
      201,
      app.baseUrl,
      'POST',
      '/credentials',
      admin,
      { path, name: path, type: 'password', secret: { password: `pw-${path}` } },
    );
    if (policy) {
      await expectCall(200, app.baseUrl, 'PUT', `/credentials/${id}/rotation`, admin, {
        enabled: true,
        rotator: { kind: 'generated' },
        ...policy,
      });
    }
    return id;
  }

  function reveal(id: string, version?: number) {
    return call<Revealed>(app.baseUrl, 'POST', `/credentials/${id}/reveal`, admin, {
      reason: 'test',
      ...(version === undefined ? {} : { version }),
    });
  }

  function runsOf(id: string): RunRow[] {
    return sqlite
      .prepare(
        'SELECT id, status, step, attempt, triggered_by, emergency FROM rotation_runs ' +
          'WHERE credential_id = ? ORDER BY started_at',
      )
      .all(id) as RunRow[];
  }

  function settled(runId: string, status = ['succeeded', 'failed']): Promise<RunRow> {
    return until(
      async () => {
        const response = await call<RunRow>(app.baseUrl, 'GET', `/rotations/${runId}`, admin);
        const run = sqlite.prepare('SELECT * FROM rotation_runs WHERE id = ?').get(runId) as RunRow;
        expect(response.status).toBe(200);
        return status.includes(run.status) ? run : undefined;
      },
      20_000,
      `run ${runId} to settle`,
    );
  }

  it('should rotate a due credential by its own scheduler timer, the previous value revealable through its grace', async () => {
    const id = await credential('sqlite/scheduled', { interval: 'P30D', gracePeriod: 'PT1H' });
    const before = await reveal(id);
    expect(before.status).toBe(200);
    expect(runsOf(id)).toEqual([]);

    // Due a second ago by the database clock; nothing but the app's 1 s timer will notice.
    sqlite
      .prepare(
        "UPDATE credentials SET next_rotation_at = strftime('%Y-%m-%d %H:%M:%f', 'now', '-1 seconds') " +
          'WHERE id = ?',
      )
      .run(id);
    const started = await until(
      () => Promise.resolve(runsOf(id)[0]),
      10_000,
      'the scheduler to open a run',
    );
    expect(started.triggered_by).toBe('schedule');
    const done = await settled(started.id);
    expect(done).toMatchObject({ status: 'succeeded', step: 'done', attempt: 1 });

    expect(await versionStates(query, id)).toEqual({ 1: 'previous', 2: 'current' });
    expect(await versionViolations(query, [id])).toEqual([]);
    const current = await reveal(id);
    expect(current.body.version).toBe(2);
    expect(current.body.secret.password).not.toBe(before.body.secret.password);
    const previous = await reveal(id, 1);
    expect(previous.status).toBe(200);
    expect(previous.body.secret.password).toBe(before.body.secret.password);

    const [row] = sqlite
      .prepare(
        "SELECT rotation_status, next_rotation_at > strftime('%Y-%m-%d %H:%M:%f', 'now', '+29 days') AS later " +
          'FROM credentials WHERE id = ?',
      )
      .all(id) as { rotation_status: string; later: number }[];
    expect(row).toEqual({ rotation_status: 'scheduled', later: 1 });
    expect(await rotationActions(query, id)).toEqual(['rotation.started', 'rotation.succeeded']);
    const [actor] = sqlite
      .prepare(
        "SELECT actor_type FROM audit_events WHERE resource_id = ? AND action = 'rotation.succeeded'",
      )
      .all(id) as { actor_type: string }[];
    expect(actor.actor_type).toBe('system');
    expect((await countsByCredential(query, 'event_outbox', 'rotation.succeeded')).get(id)).toBe(1);
  });

  it('should rotate many credentials due at once, each exactly once', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      ids.push(await credential(`sqlite/many/${i}`, { interval: 'P30D', gracePeriod: 'PT1H' }));
    }
    sqlite
      .prepare(
        "UPDATE credentials SET next_rotation_at = strftime('%Y-%m-%d %H:%M:%f', 'now', '-1 seconds') " +
          "WHERE path LIKE 'sqlite/many/%'",
      )
      .run();
    await until(
      () => Promise.resolve(ids.every((id) => runsOf(id)[0]?.status === 'succeeded') || undefined),
      20_000,
      'every run to succeed',
    );
    for (const id of ids) {
      expect(runsOf(id)).toEqual([
        expect.objectContaining({ status: 'succeeded', triggered_by: 'schedule', attempt: 1 }),
      ]);
      expect(await versionStates(query, id)).toEqual({ 1: 'previous', 2: 'current' });
    }
    expect(await versionViolations(query, ids)).toEqual([]);
    const succeeded = await countsByCredential(query, 'audit_events', 'rotation.succeeded');
    expect(ids.filter((id) => succeeded.get(id) !== 1)).toEqual([]);
  });

  it('should revoke the old value at once in an emergency', async () => {
    const id = await credential('sqlite/leaked', { interval: 'P30D', gracePeriod: 'PT24H' });
    const accepted = await expectCall<{ runId: string }>(
      202,
      app.baseUrl,
      'POST',
      `/credentials/${id}/rotate`,
      admin,
      { emergency: true, reason: 'pasted in chat' },
    );
    const done = await settled(accepted.runId);
    expect(done).toMatchObject({ status: 'succeeded', triggered_by: 'emergency', emergency: 1 });
    expect(await versionStates(query, id)).toEqual({ 1: 'revoked', 2: 'current' });
    expect(await versionViolations(query, [id])).toEqual([]);
    expect((await reveal(id, 1)).status).toBe(409);
    expect((await reveal(id)).body.version).toBe(2);
  });

  it('should finish a manual run with the value a person writes', async () => {
    const id = await credential('sqlite/manual'); // no policy: a person rotates it
    const accepted = await expectCall<{ runId: string }>(
      202,
      app.baseUrl,
      'POST',
      `/credentials/${id}/rotate`,
      admin,
      { reason: 'by hand' },
    );
    expect(await settled(accepted.runId, ['waiting'])).toMatchObject({ step: 'finish' });
    await expectCall(200, app.baseUrl, 'PUT', `/credentials/${id}/secret`, admin, {
      secret: { password: 'typed-by-a-person' },
    });

    expect(runsOf(id)).toEqual([expect.objectContaining({ status: 'succeeded', step: 'done' })]);
    expect(await versionStates(query, id)).toEqual({ 1: 'previous', 2: 'current' });
    expect(await versionViolations(query, [id])).toEqual([]);
    expect((await reveal(id)).body).toMatchObject({
      version: 2,
      secret: { password: 'typed-by-a-person' },
    });
    expect((await reveal(id, 1)).status).toBe(200);
    expect(await rotationActions(query, id)).toEqual([
      'rotation.started',
      'rotation.due',
      'rotation.succeeded',
    ]);
  });

  it('should keep the audit chain whole', async () => {
    const verified = await expectCall(200, app.baseUrl, 'POST', '/audit/verify', admin, {});
    expect(verified).toMatchObject({ ok: true });
  });
});
