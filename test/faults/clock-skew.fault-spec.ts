import { SpawnedApp } from '../helpers/spawned-app';
import { expectCall } from '../helpers/rotation-checks';
import { FaultCluster, sleep } from './helpers/fault-cluster';

const SKEW_MINUTES = 10;

/**
 * One of two instances with its clock minutes off, injected through the app's own clock
 * (CUSTOS_CLOCK_SKEW_MS, src/common/clock.ts): ten minutes fast, then (that instance replaced)
 * ten minutes slow. The
 * times that matter come from the database (DESIGN.md §5): the skewed instance, the only one
 * running the scheduler, must rotate exactly what the database says is due, stamp grace,
 * next-rotation times, claims and audit events from the database clock, and serve a previous
 * version for exactly as long as its grace lasts by the database clock, while reveals and
 * writes run on both instances.
 */
describe('One of two instances with its clock ten minutes off (spawned instances, MariaDB)', () => {
  let cluster: FaultCluster;
  let skewed: SpawnedApp | undefined;
  let early: string;
  let written: string;
  /** Per skew: a credential made due, and one with five minutes of grace. */
  const rotating: Record<string, [string, string]> = {};

  beforeAll(async () => {
    cluster = await FaultCluster.start(1, { ROTATION_SCHEDULER_ENABLED: 'false' });
    let ids: string[];
    [early, written, ...ids] = await cluster.credentials('skew', 6);
    rotating.fast = [ids[0], ids[1]];
    rotating.slow = [ids[2], ids[3]];
    for (const shortGrace of [ids[1], ids[3]]) {
      await expectCall(
        200,
        cluster.apps[0].baseUrl,
        'PUT',
        `/credentials/${shortGrace}/rotation`,
        cluster.admin,
        { enabled: true, interval: 'P30D', gracePeriod: 'PT5M', rotator: { kind: 'generated' } },
      );
    }
  }, 120_000);

  afterAll(async () => {
    await cluster?.close();
  });

  describe.each([
    ['fast', SKEW_MINUTES],
    ['slow', -SKEW_MINUTES],
  ])('%s by ten minutes', (name, minutes) => {
    let due: string;
    let shortGrace: string;

    beforeAll(async () => {
      [due, shortGrace] = rotating[name];
      // The only instance running the scheduler: the one before it goes first.
      // (Killed: its runs are finished, and a clean shutdown would only cost time.)
      if (skewed) await skewed.stop('SIGKILL');
      skewed = await cluster.spawn(
        { ROTATION_SCHEDULER_ENABLED: 'true', CUSTOS_CLOCK_SKEW_MS: String(minutes * 60_000) },
        skewed,
      );
    }, 60_000);

    /** Seconds from the database's now to the value of `sql` (one row, one column). */
    async function secondsFromNow(sql: string, params: unknown[]): Promise<number> {
      const [row] = await cluster.db.query<{ s: string }[]>(
        `SELECT TIMESTAMPDIFF(SECOND, UTC_TIMESTAMP(3), (${sql})) AS s`,
        params,
      );
      return Number(row.s);
    }

    it('should rotate, stamp and audit by the database clock, not its own', async () => {
      // The clock is off indeed: the instance says what time it thinks it is (Vault's health).
      const health = await fetch(`${skewed!.baseUrl}/v1/sys/health`);
      const { server_time_utc: serverTime } = (await health.json()) as { server_time_utc: number };
      expect(Math.abs(serverTime * 1000 - Date.now() - minutes * 60_000)).toBeLessThan(5_000);
      const startedAt = Date.now();
      const mark = cluster.answers.length;
      // Reveals of the rotating credentials; reveals and writes of another one.
      const reveals = cluster.load([early, due, shortGrace], 2, undefined, 0);
      const writes = cluster.load([written], 1, undefined, 0.5);
      // Due in five minutes by the database clock: already due by a fast instance's own clock.
      await cluster.db.query(
        'UPDATE credentials SET next_rotation_at = UTC_TIMESTAMP(3) + INTERVAL 5 MINUTE WHERE id = ?',
        [early],
      );
      // Due now by the database clock: not due for ten minutes by a slow instance's own clock.
      await cluster.makeDue([due, shortGrace]);
      await cluster.rotationsDone([due, shortGrace], 1, 30_000);
      // A few more ticks of the skewed instance.
      await sleep(2_000);
      await Promise.all([reveals.stop(), writes.stop()]);

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

      // Claims (the runs' leases) and run times: seconds from the database's now, never minutes.
      const [runs] = await cluster.db.query<{ far: string; n: string }[]>(
        'SELECT COUNT(*) AS n, MAX(GREATEST(' +
          'ABS(TIMESTAMPDIFF(SECOND, UTC_TIMESTAMP(3), started_at)), ' +
          'ABS(TIMESTAMPDIFF(SECOND, UTC_TIMESTAMP(3), updated_at)), ' +
          'ABS(TIMESTAMPDIFF(SECOND, UTC_TIMESTAMP(3), COALESCE(claim_expires_at, updated_at))))) AS far ' +
          'FROM rotation_runs WHERE credential_id IN (?)',
        [[due, shortGrace]],
      );
      expect(Number(runs.n)).toBe(2);
      expect(Number(runs.far)).toBeLessThan(120);

      // Writes on both instances: the version each one superseded keeps exactly the default
      // grace (24 h) from the database's now, not 24 h from a clock ten minutes off.
      const writeGraces = await cluster.db.query<{ s: string }[]>(
        'SELECT TIMESTAMPDIFF(SECOND, UTC_TIMESTAMP(3), grace_until) AS s FROM credential_versions ' +
          "WHERE credential_id = ? AND state = 'previous'",
        [written],
      );
      const writesAnswered = cluster
        .since(mark)
        .filter((answer) => answer.kind === 'write' && answer.status === 200);
      expect(writesAnswered.length).toBeGreaterThan(0);
      for (const { s } of writeGraces) {
        expect(Number(s)).toBeGreaterThan(86_400 - 120);
        expect(Number(s)).toBeLessThanOrEqual(86_400);
      }

      // Audit order: every lane's events in time order, and each answered request's event
      // stamped while its request was in flight (by the database clock, on the same host as
      // this test's).
      const [disorder] = await cluster.db.query<{ n: string }[]>(
        'SELECT COUNT(*) AS n FROM audit_events a JOIN audit_events b ' +
          'ON b.lane = a.lane AND b.lane_seq = a.lane_seq + 1 WHERE b.occurred_at < a.occurred_at',
      );
      expect(Number(disorder.n)).toBe(0);
      const answered = cluster.since(mark).filter((answer) => answer.status === 200);
      const ages = await cluster.db.query<{ request_id: string; age: string }[]>(
        'SELECT request_id, TIMESTAMPDIFF(MICROSECOND, occurred_at, UTC_TIMESTAMP(3)) AS age ' +
          'FROM audit_events WHERE request_id IN (?)',
        [answered.map((answer) => answer.requestId)],
      );
      const now = Date.now();
      const byId = new Map(answered.map((answer) => [answer.requestId, answer]));
      const misdated = ages.filter(({ request_id: id, age }) => {
        const answer = byId.get(id)!;
        const ms = Number(age) / 1000;
        return ms < now - answer.answeredAt - 1_000 || ms > now - answer.sentAt + 1_000;
      });
      expect(ages.length).toBeGreaterThanOrEqual(answered.length);
      expect(misdated).toEqual([]);
      expect(now - startedAt).toBeLessThan(SKEW_MINUTES * 60_000);

      expect(await cluster.invariants()).toEqual([]);
    });

    it('should serve a previous version exactly through its grace by the database clock', async () => {
      const reveal = async (app: SpawnedApp) => cluster.request(app, 'reveal', shortGrace, 1);
      // Two minutes of grace left: inside it for both, whichever way the skewed clock is off.
      await cluster.db.query(
        'UPDATE credential_versions SET grace_until = UTC_TIMESTAMP(3) + INTERVAL 2 MINUTE ' +
          'WHERE credential_id = ? AND version = 1',
        [shortGrace],
      );
      for (const app of cluster.apps) {
        expect(await reveal(app)).toMatchObject({ status: 200, version: 1, state: 'previous' });
        const { items } = await expectCall<{ items: { version: number; state: string }[] }>(
          200,
          app.baseUrl,
          'GET',
          `/credentials/${shortGrace}/versions`,
          cluster.admin,
        );
        expect(items.find((item) => item.version === 1)?.state).toBe('previous');
      }
      // Its grace over now: refused by both, though a slow clock would still be inside it.
      await cluster.db.query(
        'UPDATE credential_versions SET grace_until = UTC_TIMESTAMP(3) ' +
          'WHERE credential_id = ? AND version = 1',
        [shortGrace],
      );
      for (const app of cluster.apps) {
        const answer = await reveal(app);
        expect(answer.status).toBe(409);
        expect(answer.bodyHasSecret).toBe(false);
      }
      expect(skewed!.process.exitCode).toBeNull();
      // The sweeper may not have caught up with the grace moved by hand: no slack check here.
      expect(await cluster.invariants()).toEqual([]);
    });
  });
});
