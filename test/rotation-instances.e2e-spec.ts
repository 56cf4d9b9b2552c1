import { DataSource } from 'typeorm';
import { ScratchDatabase } from '../src/database/cli/scratch-database';
import { RotationScheduler, TickResult } from '../src/rotation/engine/rotation-scheduler';
import { RunStore } from '../src/rotation/engine/run-store';
import { openDirect } from './helpers/audit-db';
import { createCredential, Headers } from './helpers/credential-fixtures';
import {
  countsByCredential,
  inParallel,
  Query,
  versionStates,
  versionViolations,
} from './helpers/rotation-checks';
import { bearerFor, scratchMariadb, startInstances, TestApp } from './helpers/test-app';

const API = '/api/v1';
const FLEET = 200;

/**
 * Two instances of the app on one database, as a scaled-out deployment runs them. Their
 * scheduler timers are held off (a one-hour tick) so only the ticks the test drives run.
 */
describe('Rotation across two instances (MariaDB)', () => {
  let database: ScratchDatabase;
  let db: DataSource;
  let query: Query;
  let a: TestApp;
  let b: TestApp;
  let admin: Headers;

  beforeAll(async () => {
    database = await scratchMariadb();
    const env = {
      THROTTLE_LIMIT: '1000000',
      ROTATION_TICK: 'PT1H',
      ROTATION_CONCURRENCY: '4',
      // Small batches, so the two instances' batches interleave and contend for the fleet.
      ROTATION_BATCH_SIZE: '10',
    };
    [a, b] = await startInstances(database, env);
    db = await openDirect(database);
    query = (sql, params) => db.query(sql, params);
    admin = { authorization: await bearerFor(a, 'admin') };
  }, 60_000);

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await db?.destroy();
    await database?.drop();
  });

  function scheduler(app: TestApp): RotationScheduler {
    return app.app.get(RotationScheduler);
  }

  /** `count` password credentials under `prefix` with a generated policy, none due yet. */
  async function fleet(prefix: string, count: number): Promise<string[]> {
    const paths = Array.from({ length: count }, (_, i) => `${prefix}/cred-${i}`);
    return inParallel(paths, 8, async (path, i) => {
      const app = i % 2 === 0 ? a : b;
      const { id } = await createCredential(app, admin, { path });
      await app.http
        .put(`${API}/credentials/${id}/rotation`)
        .set(admin)
        .send({
          enabled: true,
          interval: 'P30D',
          gracePeriod: 'PT1H',
          rotator: { kind: 'generated' },
        })
        .expect(200);
      return id;
    });
  }

  /** Every credential under `prefix` due a second ago, by the database clock. */
  async function makeDue(prefix: string): Promise<void> {
    await db.query(
      'UPDATE credentials SET next_rotation_at = UTC_TIMESTAMP(3) - INTERVAL 1 SECOND ' +
        'WHERE path LIKE ?',
      [`${prefix}/%`],
    );
  }

  function reveal(app: TestApp, id: string, version?: number) {
    return app.http
      .post(`${API}/credentials/${id}/reveal`)
      .set(admin)
      .send(version === undefined ? { reason: 'test' } : { version, reason: 'test' });
  }

  async function verifyAudit(): Promise<void> {
    const response = await a.http.post(`${API}/audit/verify`).set(admin).expect(200);
    expect(response.body).toMatchObject({ ok: true });
  }

  function succeeded(result: TickResult): number {
    return result.outcomes.succeeded ?? 0;
  }

  it('should rotate 200 due credentials exactly once, the two instances sharing the work', async () => {
    const ids = await fleet('fleet', FLEET);
    const before = new Map<string, string>();
    await inParallel(ids, 16, async (id) => {
      const body = (await reveal(a, id).expect(200)).body as { secret: { password: string } };
      before.set(id, body.secret.password);
    });
    await makeDue('fleet');

    const [fromA, fromB] = await Promise.all([scheduler(a).tick(), scheduler(b).tick()]);
    await Promise.all([scheduler(a).idle(), scheduler(b).idle()]);

    // Finished runs drop their claim, so who did what is read from the ticks' results.
    expect(fromA.outcomes).toEqual({ succeeded: succeeded(fromA) });
    expect(fromB.outcomes).toEqual({ succeeded: succeeded(fromB) });
    expect(succeeded(fromA) + succeeded(fromB)).toBe(FLEET);
    expect(succeeded(fromA)).toBeGreaterThan(0);
    expect(succeeded(fromB)).toBeGreaterThan(0);
    expect(a.app.get(RunStore).instance).not.toBe(b.app.get(RunStore).instance);

    const runs = await db.query<{ credential_id: string; status: string; n: number }[]>(
      'SELECT r.credential_id, r.status, COUNT(*) AS n FROM rotation_runs r ' +
        'JOIN credentials c ON c.id = r.credential_id WHERE c.path LIKE ? ' +
        'GROUP BY r.credential_id, r.status',
      ['fleet/%'],
    );
    expect(runs).toHaveLength(FLEET);
    expect(runs.every((run) => run.status === 'succeeded' && Number(run.n) === 1)).toBe(true);
    expect(new Set(runs.map((run) => run.credential_id))).toEqual(new Set(ids));
    const open = await db.query<{ n: number }[]>(
      'SELECT COUNT(*) AS n FROM rotation_runs WHERE claimed_by IS NOT NULL OR open_slot IS NOT NULL',
    );
    expect(Number(open[0].n)).toBe(0);

    const versions = await db.query<{ credential_id: string; states: string }[]>(
      "SELECT credential_id, GROUP_CONCAT(version, ':', state ORDER BY version) AS states " +
        'FROM credential_versions WHERE credential_id IN (?) GROUP BY credential_id',
      [ids],
    );
    expect(versions).toHaveLength(FLEET);
    expect(versions.filter((row) => row.states !== '1:previous,2:current')).toEqual([]);
    expect(await versionViolations(query, ids)).toEqual([]);
    const scheduled = await db.query<{ n: number }[]>(
      "SELECT COUNT(*) AS n FROM credentials WHERE path LIKE ? AND rotation_status = 'scheduled' " +
        'AND current_version = 2 AND next_rotation_at > UTC_TIMESTAMP(3) + INTERVAL 29 DAY',
      ['fleet/%'],
    );
    expect(Number(scheduled[0].n)).toBe(FLEET);

    // Every stored version decrypts, read through either instance; the value did change.
    await inParallel(ids, 16, async (id, i) => {
      const current = (await reveal(i % 2 ? a : b, id).expect(200)).body as {
        version: number;
        secret: { password: string };
      };
      expect(current.version).toBe(2);
      expect(current.secret.password).not.toBe(before.get(id));
      const previous = (await reveal(i % 2 ? b : a, id, 1).expect(200)).body as {
        secret: { password: string };
      };
      expect(previous.secret.password).toBe(before.get(id));
    });

    for (const [table, type] of [
      ['audit_events', 'rotation.started'],
      ['audit_events', 'rotation.succeeded'],
      ['event_outbox', 'rotation.started'],
      ['event_outbox', 'rotation.succeeded'],
    ] as const) {
      const counts = await countsByCredential(query, table, type);
      expect(ids.filter((id) => counts.get(id) !== 1)).toEqual([]);
    }
    await verifyAudit();
  }, 120_000);

  it('should rotate each credential once per opened run while rotations are also asked for over HTTP', async () => {
    const ids = await fleet('race', 100);
    await makeDue('race');
    const targets = ids.filter((_, i) => i % 5 === 0); // 20 of them

    const ticks = Promise.all([scheduler(a).tick(), scheduler(b).tick()]);
    // Each target is asked for twice: once at once, racing the ticks for it, and once a moment
    // later, racing the run that won (or opening one more after it finished).
    const ask = async (id: string, i: number, delayMs: number) => {
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      const response = await (i % 2 ? a : b).http
        .post(`${API}/credentials/${id}/rotate`)
        .set(admin)
        .send({ reason: 'race' });
      expect([202, 409]).toContain(response.status);
      return response.status;
    };
    const asked = await Promise.all(
      targets.flatMap((id, i) => [ask(id, i, 0), ask(id, i + 1, 100 + 150 * i)]),
    );
    await ticks;
    await Promise.all([scheduler(a).idle(), scheduler(b).idle()]);

    const runs = await db.query<
      {
        credential_id: string;
        status: string;
        triggered_by: string;
        pending_version: number;
        started_at: Date;
        finished_at: Date;
      }[]
    >(
      'SELECT r.credential_id, r.status, r.triggered_by, r.pending_version, r.started_at, ' +
        'r.finished_at FROM rotation_runs r JOIN credentials c ON c.id = r.credential_id ' +
        'WHERE c.path LIKE ? ORDER BY r.started_at',
      ['race/%'],
    );
    expect(runs.filter((run) => run.status !== 'succeeded')).toEqual([]);
    const accepted = asked.filter((status) => status === 202).length;
    expect(runs.filter((run) => run.triggered_by === 'manual')).toHaveLength(accepted);

    const started = await countsByCredential(query, 'audit_events', 'rotation.started');
    const done = await countsByCredential(query, 'audit_events', 'rotation.succeeded');
    const events = await countsByCredential(query, 'event_outbox', 'rotation.succeeded');
    const credentials = await db.query<{ id: string; current_version: number }[]>(
      'SELECT id, current_version FROM credentials WHERE id IN (?)',
      [ids],
    );
    for (const credential of credentials) {
      const own = runs.filter((run) => run.credential_id === credential.id);
      // Every credential was due: at least the scheduled run or the one asked for rotated it.
      expect(own.length).toBeGreaterThanOrEqual(1);
      expect(own.length).toBeLessThanOrEqual(targets.includes(credential.id) ? 3 : 1);
      // One new version per run, each run its own, and never two runs open at once.
      expect(Number(credential.current_version)).toBe(1 + own.length);
      expect(own.map((run) => Number(run.pending_version))).toEqual(own.map((_, i) => 2 + i));
      for (let i = 1; i < own.length; i++) {
        expect(own[i].started_at.getTime()).toBeGreaterThanOrEqual(
          own[i - 1].finished_at.getTime(),
        );
      }
      expect(started.get(credential.id)).toBe(own.length);
      expect(done.get(credential.id)).toBe(own.length);
      expect(events.get(credential.id)).toBe(own.length);
    }
    expect(await versionViolations(query, ids)).toEqual([]);
    await inParallel(ids, 16, async (id) => {
      await reveal(a, id).expect(200);
      await reveal(b, id, 1).expect((response) => {
        // Version 1 is previous (one rotation) or revoked (two: at most one old value serves).
        expect([200, 409]).toContain(response.status);
      });
    });
    await verifyAudit();
  }, 120_000);

  it('should revoke at once the value an emergency was asked for, while the ticks rotate the same credentials', async () => {
    const ids = await fleet('leak', 40);
    await makeDue('leak');
    const targets = ids.filter((_, i) => i % 4 === 0); // 10 of them

    const ticks = Promise.all([scheduler(a).tick(), scheduler(b).tick()]);
    // Spread over the ticks: some escalate the scheduled run, some open one of their own before
    // or after it.
    const answers = await Promise.all(
      targets.map(async (id, i) => {
        await new Promise((resolve) => setTimeout(resolve, 200 * i));
        const response = await (i % 2 ? a : b).http
          .post(`${API}/credentials/${id}/rotate`)
          .set(admin)
          .send({ emergency: true, reason: 'leaked' });
        // An emergency is never refused for a run in progress: it joins it.
        expect(response.status).toBe(202);
        return response.body as { runId: string; opened: boolean };
      }),
    );
    await ticks;
    await Promise.all([scheduler(a).idle(), scheduler(b).idle()]);

    const runs = await db.query<
      { id: string; credential_id: string; status: string; emergency: number }[]
    >('SELECT id, credential_id, status, emergency FROM rotation_runs WHERE credential_id IN (?)', [
      ids,
    ]);
    expect(runs.filter((run) => run.status !== 'succeeded')).toEqual([]);
    for (const [i, id] of targets.entries()) {
      const own = runs.filter((run) => run.credential_id === id);
      const answered = own.find((run) => run.id === answers[i].runId);
      expect(answered).toMatchObject({ emergency: 1 });
      // The emergency run was the last: no old value of the credential is revealable any more.
      const states = await versionStates(query, id);
      expect(Object.keys(states)).toHaveLength(own.length + 1);
      expect(Object.values(states).filter((state) => state !== 'revoked')).toEqual(['current']);
      expect(own.length).toBeLessThanOrEqual(answers[i].opened ? 2 : 1);
    }
    for (const id of ids.filter((id) => !targets.includes(id))) {
      expect(await versionStates(query, id)).toEqual({ 1: 'previous', 2: 'current' });
    }
    expect(await versionViolations(query, ids)).toEqual([]);
    await verifyAudit();
  }, 120_000);
});
