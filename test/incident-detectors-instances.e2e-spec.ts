import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { UsersService } from '../src/auth/users/users.service';
import { ScratchDatabase } from '../src/database/cli/scratch-database';
import { BRUTE_FORCE } from '../src/incidents/detectors/audit-log-detectors';
import { DetectorEventsQuery } from '../src/incidents/detectors/detector-events.query';
import { DetectorReport, DetectorRunner } from '../src/incidents/detectors/detector-runner';
import { openDirect } from './helpers/audit-db';
import { inParallel, until } from './helpers/rotation-checks';
import { scratchMariadb, startInstances, TestApp } from './helpers/test-app';

const LEASE = 'incident-detector:brute_force';

/**
 * Detectors on two instances of one database. The lease lets one instance at a time run a
 * detector; the cursor's compare-and-set is what keeps events from being reported twice when a
 * lease lapses mid-pass and the other instance takes over. These tests take the lease away while
 * passes run, so only the cursor stands between the two instances.
 */
describe('Incident detectors across two instances (MariaDB)', () => {
  let database: ScratchDatabase;
  let db: DataSource;
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    database = await scratchMariadb();
    const env = {
      THROTTLE_LIMIT: '1000000',
      REVEAL_RATE_LIMIT: '1000000',
      LOGIN_THROTTLE_LIMIT: '1000000',
      TRUST_PROXY: 'true',
      // The tests drive the passes. Events are read once a second old, as in production (5 s
      // there): an event written with a lower seq may commit after a higher one.
      DETECTORS_ENABLED: 'false',
      DETECTORS_SETTLE: 'PT1S',
      DETECT_BRUTE_FORCE_ACCOUNT_THRESHOLD: '3',
      DETECT_BRUTE_FORCE_IP_THRESHOLD: '4',
    };
    [a, b] = await startInstances(database, env);
    db = await openDirect(database);
  }, 60_000);

  afterAll(async () => {
    jest.restoreAllMocks();
    await a?.close();
    await b?.close();
    await db?.destroy();
    await database?.drop();
  });

  const runner = (app: TestApp) => app.app.get(DetectorRunner);

  async function victim(): Promise<{ id: string; email: string }> {
    const email = `victim-${randomBytes(4).toString('hex')}@example.test`;
    const user = await a.app
      .get(UsersService)
      .create({ email, password: 'Tq8!victim-password-ok', role: 'viewer' });
    return { id: user.id, email };
  }

  function failLogin(app: TestApp, email: string, ip: string) {
    return app.http
      .post('/api/v1/auth/login')
      .set('x-forwarded-for', ip)
      .send({ email, password: 'wrong-password-1' })
      .expect(401);
  }

  const settled = () => new Promise((resolve) => setTimeout(resolve, 1500));

  const loseLease = () => db.query('DELETE FROM leases WHERE name = ?', [LEASE]);

  async function cursorSeq(): Promise<string> {
    const [row] = await db.query<{ seq: string }[]>(
      "SELECT CAST(last_seq AS CHAR) AS seq FROM incident_detector_cursors WHERE detector = 'brute_force'",
    );
    return row?.seq ?? '0';
  }

  async function lastLoginFailureSeq(): Promise<string> {
    const [row] = await db.query<{ seq: string | null }[]>(
      "SELECT CAST(MAX(seq) AS CHAR) AS seq FROM audit_events WHERE action IN ('auth.login.failed', 'auth.login.locked')",
    );
    return row.seq ?? '0';
  }

  /** Detection entries of the brute-force incidents, by dedupe key. */
  async function detections(): Promise<Map<string, Record<string, unknown>[]>> {
    const rows = await db.query<{ key: string; details: string }[]>(
      'SELECT i.dedupe_key AS `key`, t.details FROM incident_timeline t ' +
        "JOIN incidents i ON i.id = t.incident_id WHERE i.type = 'brute_force' AND t.kind = 'detection' " +
        'ORDER BY t.seq',
    );
    const byKey = new Map<string, Record<string, unknown>[]>();
    for (const row of rows) {
      const list = byKey.get(row.key) ?? [];
      list.push(JSON.parse(row.details) as Record<string, unknown>);
      byKey.set(row.key, list);
    }
    return byKey;
  }

  async function detectionCount(): Promise<number> {
    const [row] = await db.query<{ n: number }[]>(
      "SELECT COUNT(*) AS n FROM incident_timeline WHERE kind = 'detection'",
    );
    return Number(row.n);
  }

  it('should report events once when both instances read the same cursor', async () => {
    const { id, email } = await victim();
    for (const ip of ['203.0.113.20', '203.0.113.21', '203.0.113.22']) {
      await failLogin(a, email, ip);
    }
    await settled();
    // Each instance's pass stops after reading the cursor, until both have read it.
    let arrived = 0;
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    for (const app of [a, b]) {
      const query = app.app.get(DetectorEventsQuery);
      const history = query.history.bind(query);
      jest.spyOn(query, 'history').mockImplementation(async (...args) => {
        arrived++;
        await gate;
        return history(...args);
      });
    }

    const first = runner(a).runLogDetector(BRUTE_FORCE);
    await until(() => Promise.resolve(arrived === 1 || undefined));
    // A's lease lapses mid-pass: B takes it and reads the same cursor.
    await loseLease();
    const second = runner(b).runLogDetector(BRUTE_FORCE);
    await until(() => Promise.resolve(arrived === 2 || undefined));
    open();
    const reports = [...(await first), ...(await second)];
    jest.restoreAllMocks();

    expect(reports).toHaveLength(1);
    expect(reports[0].finding).toMatchObject({
      dedupeKey: `brute_force:account:user:${id}`,
      facts: { failures: 3 },
    });
    expect((await detections()).get(`brute_force:account:user:${id}`)).toHaveLength(1);
    expect(await cursorSeq()).toBe(await lastLoginFailureSeq());
  });

  it('should neither lose nor repeat findings while two instances run passes during an attack and lose their leases', async () => {
    const accounts = await Promise.all(Array.from({ length: 4 }, () => victim()));
    const attempts = accounts.flatMap((account, i) =>
      Array.from({ length: 8 }, (_, n) => ({ account, ip: `198.51.100.${10 * i + (n % 3)}` })),
    );
    const reported: DetectorReport[] = [];
    const before = await detectionCount();
    let attacking = true;
    const passes = [a, b].map(async (app) => {
      while (attacking) reported.push(...(await runner(app).runLogDetector(BRUTE_FORCE)));
    });
    const thief = (async () => {
      while (attacking) {
        await loseLease();
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();

    await inParallel(attempts, 8, ({ account, ip }, i) =>
      failLogin(i % 2 === 0 ? a : b, account.email, ip),
    );
    attacking = false;
    await Promise.all([...passes, thief]);
    // What the passes left behind, read by whichever instance took the lease last.
    const last = await lastLoginFailureSeq();
    await until(async () => {
      for (const app of [a, b]) reported.push(...(await runner(app).runLogDetector(BRUTE_FORCE)));
      return (await cursorSeq()) === last || undefined;
    });

    const byKey = await detections();
    const open = await db.query<{ key: string; n: number }[]>(
      "SELECT dedupe_key AS `key`, COUNT(*) AS n FROM incidents WHERE type = 'brute_force' GROUP BY dedupe_key",
    );
    expect(open.every((row) => Number(row.n) === 1)).toBe(true);
    for (const account of accounts) {
      const entries = byKey.get(`brute_force:account:user:${account.id}`) ?? [];
      // Nothing lost: the latest entry counts every attempt (the lockout's are counted too).
      expect(entries.at(-1)).toMatchObject({ failures: 8 });
      // Nothing repeated: each entry reports a burst ending at an event no other entry ended at.
      const ends = entries.map((entry) => entry.lastSeq);
      expect(new Set(ends).size).toBe(ends.length);
    }
    // Every finding a pass reported is in a timeline, and the timelines hold nothing else.
    expect((await detectionCount()) - before).toBe(reported.length);
  }, 60_000);
});
