import { join } from 'node:path';
import { SpawnedApp } from '../helpers/spawned-app';
import { expectCall } from '../helpers/rotation-checks';
import { FaultCluster, sleep } from './helpers/fault-cluster';

const SKEW_MINUTES = 10;

/**
 * One instance's clock ten minutes fast (a preloaded script moves its Date, as faketime would;
 * the app has no clock of its own to inject). The times that matter come from the database
 * (DESIGN.md §5): the fast instance, the only one running the scheduler here, must not rotate a
 * credential the database says is not due, must write grace and next-rotation times from the
 * database clock, and must serve a previous version for as long as its grace lasts.
 */
describe('One instance with its clock ten minutes fast (two spawned instances, MariaDB)', () => {
  let cluster: FaultCluster;
  let fast: SpawnedApp;
  let early: string;
  let due: string;
  let shortGrace: string;

  beforeAll(async () => {
    cluster = await FaultCluster.start(1, { ROTATION_SCHEDULER_ENABLED: 'false' });
    fast = await cluster.spawn({
      ROTATION_SCHEDULER_ENABLED: 'true',
      NODE_OPTIONS: `--require ${join(__dirname, 'helpers', 'skewed-clock.js')}`,
      FAULT_CLOCK_SKEW_MS: String(SKEW_MINUTES * 60_000),
    });
    [early, due, shortGrace] = await cluster.credentials('skew', 3);
    await expectCall(
      200,
      cluster.apps[0].baseUrl,
      'PUT',
      `/credentials/${shortGrace}/rotation`,
      cluster.admin,
      { enabled: true, interval: 'P30D', gracePeriod: 'PT5M', rotator: { kind: 'generated' } },
    );
  }, 120_000);

  afterAll(async () => {
    await cluster?.close();
  });

  /** Seconds from the database's now to a column of a row. */
  async function secondsFromNow(sql: string, params: unknown[]): Promise<number> {
    const [row] = await cluster.db.query<{ s: string }[]>(
      `SELECT TIMESTAMPDIFF(SECOND, UTC_TIMESTAMP(3), (${sql})) AS s`,
      params,
    );
    return Number(row.s);
  }

  it('should rotate by the database clock, not its own', async () => {
    // Reveals only: a secret write would make version 1 previous with the write's own grace.
    const load = cluster.load([early, due, shortGrace], 2, undefined, 0);
    // Due in five minutes by the database clock: already due by the fast instance's own clock.
    await cluster.db.query(
      'UPDATE credentials SET next_rotation_at = UTC_TIMESTAMP(3) + INTERVAL 5 MINUTE WHERE id = ?',
      [early],
    );
    await cluster.makeDue([due, shortGrace]);
    await cluster.rotationsDone([due, shortGrace], 1, 30_000);
    // A few more ticks of the fast instance.
    await sleep(3_000);
    await load.stop();

    expect(await cluster.runCounts([early])).toEqual({});
    const grace = await secondsFromNow(
      'SELECT grace_until FROM credential_versions WHERE credential_id = ? AND version = 1',
      [due],
    );
    expect(grace).toBeGreaterThan(3600 - 60);
    expect(grace).toBeLessThanOrEqual(3600);
    const next = await secondsFromNow('SELECT next_rotation_at FROM credentials WHERE id = ?', [
      due,
    ]);
    expect(next).toBeGreaterThan(30 * 86_400 - 60);
    expect(next).toBeLessThanOrEqual(30 * 86_400);
    expect(await cluster.invariants()).toEqual([]);
  });

  it('should serve a previous version through its grace on the fast instance too', async () => {
    const left = await secondsFromNow(
      'SELECT grace_until FROM credential_versions WHERE credential_id = ? AND version = 1',
      [shortGrace],
    );
    // Five minutes of grace, well inside them by the database clock (not by the fast one's).
    expect(left).toBeGreaterThan(60);
    const mark = cluster.answers.length;
    for (const app of cluster.apps) {
      const answer = await cluster.request(app, 'reveal', shortGrace, 1);
      expect(answer).toMatchObject({ status: 200, version: 1, state: 'previous' });
    }
    expect(cluster.since(mark)).toHaveLength(2);
    // And lists it as previous, not as revoked.
    for (const app of cluster.apps) {
      const { items } = await expectCall<{ items: { version: number; state: string }[] }>(
        200,
        app.baseUrl,
        'GET',
        `/credentials/${shortGrace}/versions`,
        cluster.admin,
      );
      expect(items.find((item) => item.version === 1)?.state).toBe('previous');
    }
    expect(fast.process.exitCode).toBeNull();
    expect(await cluster.invariants()).toEqual([]);
  });
});
