import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { createScratchSqlite, ScratchDatabase } from '../src/database/cli/scratch-database';
import { RotationScheduleQuery } from '../src/rotation/schedule/rotation-schedule.query';
import { createCredential, Headers } from './helpers/credential-fixtures';
import { serviceWithGrants } from './helpers/principals';
import { bearerFor, scratchMariadb, startApp, TestApp } from './helpers/test-app';

const API = '/api/v1';
const ENV = {
  THROTTLE_LIMIT: '100000',
  LOGIN_THROTTLE_LIMIT: '100000',
  AUDIT_SINKS: 'none',
  ROTATION_SCHEDULER_ENABLED: 'false',
  ROTATION_OVERDUE_AFTER: 'PT1H',
};
const HOUR = 3600;

interface Item {
  credentialId: string;
  path: string;
  type: string;
  nextRotationAt: string | null;
  rotationStatus: string;
  overdueSeconds?: number;
  runId?: string;
}

interface Page {
  items: Item[];
  nextCursor: string | null;
}

/**
 * Each credential's place on the schedule, with times relative to the database clock (seconds),
 * and the run it has open, if any.
 */
const SCHEDULE = [
  { path: 'acme/prod/a-due', status: 'scheduled', next: -600 },
  { path: 'acme/prod/b-overdue', status: 'scheduled', next: -2 * HOUR },
  { path: 'acme/prod/c-failed', status: 'failed', next: -3 * HOUR },
  {
    path: 'acme/prod/d-manual-late',
    status: 'awaiting_value',
    next: -5 * 24 * HOUR,
    run: { status: 'waiting', overdue: -HOUR },
  },
  {
    path: 'acme/prod/e-manual',
    status: 'awaiting_value',
    next: -600,
    run: { status: 'waiting', overdue: 24 * HOUR },
  },
  { path: 'acme/prod/f-rotating', status: 'rotating', next: 24 * HOUR, run: { status: 'running' } },
  { path: 'acme/prod/g-later', status: 'scheduled', next: 24 * HOUR },
  { path: 'acme/prod/i-disabled', status: 'disabled', next: -2 * HOUR },
  { path: 'acme/prod/j-deleted', status: 'scheduled', next: -2 * HOUR, deleted: true },
  { path: 'acme/prod/k-no-policy', status: 'none', next: null },
  { path: 'acme/dev/h-overdue', status: 'scheduled', next: -2 * HOUR },
] as const;

const DUE = [
  'acme/dev/h-overdue',
  'acme/prod/a-due',
  'acme/prod/b-overdue',
  'acme/prod/c-failed',
  'acme/prod/d-manual-late',
  'acme/prod/e-manual',
  'acme/prod/f-rotating',
];
/** How long each has been overdue, in seconds. */
const OVERDUE: Record<string, number> = {
  'acme/dev/h-overdue': HOUR,
  'acme/prod/b-overdue': HOUR,
  'acme/prod/c-failed': 2 * HOUR,
  'acme/prod/d-manual-late': HOUR,
};

const DIALECTS = [
  ['MariaDB', scratchMariadb],
  ['SQLite', () => Promise.resolve(createScratchSqlite())],
] as const;

describe.each(DIALECTS)('Due and overdue rotations (%s)', (dialect, scratch) => {
  let database: ScratchDatabase;
  let sut: TestApp;
  let db: DataSource;
  let admin: Headers;
  const ids = new Map<string, string>();
  const runs = new Map<string, string>();

  const clockPlus = (seconds: number) =>
    dialect === 'MariaDB'
      ? `UTC_TIMESTAMP(3) + INTERVAL ${seconds} SECOND`
      : `strftime('%Y-%m-%d %H:%M:%f', 'now', '${seconds} seconds')`;

  beforeAll(async () => {
    database = await scratch();
    sut = await startApp(database, { env: ENV });
    db = sut.app.get(DataSource);
    admin = { authorization: await bearerFor(sut, 'admin') };
    for (const entry of SCHEDULE) {
      const { id } = await createCredential(sut, admin, { path: entry.path });
      ids.set(entry.path, id);
      await db.query(
        `UPDATE credentials SET rotation_status = ?, next_rotation_at = ${
          entry.next === null ? 'NULL' : clockPlus(entry.next)
        }${'deleted' in entry ? ", status = 'deleted'" : ''} WHERE id = ?`,
        [entry.status, id],
      );
      if ('run' in entry) {
        const runId = randomUUID();
        runs.set(entry.path, runId);
        const overdue = 'overdue' in entry.run ? clockPlus(entry.run.overdue) : 'NULL';
        await db.query(
          'INSERT INTO rotation_runs (id, credential_id, rotator, step, status, open_slot, attempt, max_attempts, ' +
            'triggered_by, grace_seconds, next_attempt_at, overdue_at, started_at, updated_at) ' +
            `VALUES (?, ?, 'manual', 'create', ?, 'open', 1, 3, 'schedule', 3600, ${clockPlus(0)}, ${overdue}, ${clockPlus(-7200)}, ${clockPlus(0)})`,
          [runId, id, entry.run.status],
        );
      }
    }
  });

  afterAll(async () => {
    await sut?.close();
    await database?.drop();
  });

  const list = async (route: 'due' | 'overdue', headers: Headers, query = ''): Promise<Page> =>
    (await sut.http.get(`${API}/rotations/${route}${query}`).set(headers).expect(200)).body as Page;

  const paths = (page: Page) => page.items.map((item) => item.path);

  it('should list every credential due, those in flight included, by path with their status', async () => {
    const page = await list('due', admin);

    expect(paths(page)).toEqual(DUE);
    expect(page.nextCursor).toBeNull();
    const byPath = new Map(page.items.map((item) => [item.path, item]));
    expect(byPath.get('acme/prod/a-due')).toEqual({
      credentialId: ids.get('acme/prod/a-due'),
      path: 'acme/prod/a-due',
      type: 'password',
      nextRotationAt: expect.stringMatching(/Z$/),
      rotationStatus: 'scheduled',
    });
    expect(byPath.get('acme/prod/e-manual')).toMatchObject({
      rotationStatus: 'awaiting_value',
      runId: runs.get('acme/prod/e-manual'),
    });
    expect(byPath.get('acme/prod/e-manual')!.overdueSeconds).toBeUndefined();
    expect(byPath.get('acme/prod/f-rotating')).toMatchObject({
      rotationStatus: 'rotating',
      runId: runs.get('acme/prod/f-rotating'),
    });
    expect(byPath.get('acme/prod/b-overdue')!.overdueSeconds).toBeGreaterThanOrEqual(HOUR);
  });

  it('should list the overdue ones with how long each has been overdue', async () => {
    const page = await list('overdue', admin);

    expect(paths(page)).toEqual(Object.keys(OVERDUE).sort());
    for (const item of page.items) {
      expect([item.path, item.overdueSeconds]).toEqual([item.path, expect.any(Number)]);
      expect(item.overdueSeconds! - OVERDUE[item.path]).toBeGreaterThanOrEqual(0);
      expect(item.overdueSeconds! - OVERDUE[item.path]).toBeLessThan(60);
    }
    expect(page.items.find((i) => i.path === 'acme/prod/d-manual-late')!.runId).toBe(
      runs.get('acme/prod/d-manual-late'),
    );
  });

  it('should count due, overdue, the oldest overdue and runs in flight', async () => {
    const counts = await sut.app.get(RotationScheduleQuery).counts();

    expect(counts).toEqual({
      due: DUE.length,
      overdue: Object.keys(OVERDUE).length,
      oldestOverdueSeconds: expect.any(Number),
      inFlight: 3,
    });
    expect(counts.oldestOverdueSeconds - 2 * HOUR).toBeGreaterThanOrEqual(0);
    expect(counts.oldestOverdueSeconds - 2 * HOUR).toBeLessThan(60);
  });

  it('should page through with the cursor, each credential once', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Page = await list('due', admin, `?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...paths(page));
      cursor = page.nextCursor;
    } while (cursor);

    expect(seen).toEqual(DUE);
    const overdueCursor = (await list('overdue', admin, '?limit=1')).nextCursor!;
    await sut.http.get(`${API}/rotations/due?cursor=${overdueCursor}`).set(admin).expect(400);
  });

  it('should show operators and auditors everything, like admins', async () => {
    for (const role of ['operator', 'auditor'] as const) {
      const headers = { authorization: await bearerFor(sut, role) };
      expect(paths(await list('due', headers))).toEqual(DUE);
      expect(paths(await list('overdue', headers))).toEqual(Object.keys(OVERDUE).sort());
    }
  });

  it('should show a service only what it may read and rotate by grant', async () => {
    const both = await serviceWithGrants(sut, admin.authorization, [
      { pathPattern: 'acme/prod/*', capabilities: ['read', 'rotate'] },
    ]);
    const rotateOnly = await serviceWithGrants(sut, admin.authorization, [
      { pathPattern: 'acme/prod/*', capabilities: ['rotate'] },
    ]);
    const readOnly = await serviceWithGrants(sut, admin.authorization, [
      { pathPattern: 'acme/**', capabilities: ['read'] },
    ]);

    expect(paths(await list('due', both.headers))).toEqual(
      DUE.filter((p) => p.startsWith('acme/prod/')),
    );
    expect(paths(await list('overdue', both.headers))).toEqual([
      'acme/prod/b-overdue',
      'acme/prod/c-failed',
      'acme/prod/d-manual-late',
    ]);
    expect(await list('due', rotateOnly.headers)).toEqual({ items: [], nextCursor: null });
    expect(await list('overdue', readOnly.headers)).toEqual({ items: [], nextCursor: null });
  });

  it('should show a viewer nothing but what a rotate grant gives it', async () => {
    const viewer = { authorization: await bearerFor(sut, 'viewer') };
    expect(await list('due', viewer)).toEqual({ items: [], nextCursor: null });

    const me = await sut.http.get(`${API}/auth/me`).set(viewer).expect(200);
    await sut.http
      .post(`${API}/grants`)
      .set(admin)
      .send({
        principalType: 'user',
        principalId: me.body.id,
        pathPattern: 'acme/dev/*',
        capabilities: ['rotate'],
      })
      .expect(201);

    expect(paths(await list('overdue', viewer))).toEqual(['acme/dev/h-overdue']);
  });

  it('should export the schedule in /metrics', async () => {
    const text = (await sut.http.get('/metrics').expect(200)).text;

    expect(text).toMatch(new RegExp(`^custos_rotations_due ${DUE.length}$`, 'm'));
    expect(text).toMatch(/^custos_rotations_overdue 4$/m);
    expect(text).toMatch(/^custos_rotation_runs_in_flight 3$/m);
    expect(text).toMatch(/^custos_rotation_oldest_overdue_seconds 7[2-9]\d\d$/m);
    expect(text).toMatch(/^custos_rotations_total\{trigger="schedule",outcome="failed"\} 0$/m);
  });

  it('should stay ready but say degraded, with the overdue count and the oldest age', async () => {
    const response = await sut.http.get(`${API}/health/ready`).expect(200);

    expect(response.body.status).toBe('degraded');
    expect(response.body.error).toEqual({});
    expect(response.body.details.database.status).toBe('up');
    expect(response.body.details.rotation).toEqual({
      status: 'degraded',
      overdue: 4,
      oldestOverdueSeconds: expect.any(Number),
      message: expect.stringMatching(
        /^4 credential\(s\) overdue for rotation, the oldest for \d+ s$/,
      ),
    });
  });

  it('should be up again once nothing is overdue', async () => {
    await db.query(
      `UPDATE credentials SET next_rotation_at = ${clockPlus(24 * HOUR)} WHERE rotation_status IN ('scheduled', 'failed')`,
    );
    await db.query(`UPDATE rotation_runs SET overdue_at = ${clockPlus(24 * HOUR)}`);

    const response = await sut.http.get(`${API}/health/ready`).expect(200);

    expect(response.body.status).toBe('ok');
    expect(response.body.details.rotation).toEqual({
      status: 'up',
      overdue: 0,
      oldestOverdueSeconds: 0,
    });
    expect(await list('overdue', admin)).toEqual({ items: [], nextCursor: null });
  });
});
