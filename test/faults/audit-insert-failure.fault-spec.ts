import { call, expectCall } from '../helpers/rotation-checks';
import { FaultCluster, sleep } from './helpers/fault-cluster';

const TRIGGER = 'fault_suite_refuse_audit';

/**
 * Audit writes fail while the database is otherwise fine: a BEFORE INSERT trigger the test adds
 * on audit_events refuses every row. Audit is fail-closed (DESIGN.md §4): reveals answer 5xx
 * without the secret, writes and rotations change nothing; once the trigger is dropped the
 * service carries on by itself and every invariant holds.
 */
describe('Audit inserts failing (two spawned instances, MariaDB)', () => {
  let cluster: FaultCluster;
  let ids: string[];
  /** Every plaintext password the credentials held before the fault, as revealed then. */
  const values = new Set<string>();

  beforeAll(async () => {
    cluster = await FaultCluster.start(2);
    ids = await cluster.credentials('audit-fail', 6);
  }, 120_000);

  afterAll(async () => {
    await cluster?.db.query(`DROP TRIGGER IF EXISTS ${TRIGGER}`).catch(() => undefined);
    await cluster?.close();
  });

  /** What is stored of every version, to show that nothing changed. */
  function stored(): Promise<unknown[]> {
    return cluster.db.query(
      'SELECT credential_id, version, state, HEX(ciphertext) AS sealed, grace_until ' +
        'FROM credential_versions ORDER BY credential_id, version',
    );
  }

  it('should answer reveals 5xx without the secret, change nothing, and recover once audit inserts work again', async () => {
    for (const id of ids) {
      const revealed = await expectCall<{ secret: { password: string } }>(
        200,
        cluster.apps[0].baseUrl,
        'POST',
        `/credentials/${id}/reveal`,
        cluster.admin,
        { reason: 'before the fault' },
      );
      values.add(revealed.secret.password);
    }
    const before = await stored();
    const [{ n: eventsBefore }] = await cluster.db.query<{ n: number }[]>(
      'SELECT COUNT(*) AS n FROM audit_events',
    );

    await cluster.db.query(
      `CREATE TRIGGER ${TRIGGER} BEFORE INSERT ON audit_events FOR EACH ROW ` +
        "SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'fault suite: audit insert refused'",
    );
    const mark = cluster.answers.length;
    // Due rotations find the audit refusing too (their milestones are audited).
    await cluster.makeDue(ids.slice(0, 3));
    for (const app of cluster.apps) {
      for (const id of ids) {
        await cluster.request(app, 'reveal', id);
        await cluster.request(app, 'write', id);
      }
      const rotate = await call(
        app.baseUrl,
        'POST',
        `/credentials/${ids[5]}/rotate`,
        cluster.admin,
        { reason: 'fault suite' },
      );
      expect(rotate.status).toBeGreaterThanOrEqual(500);
    }
    // A few scheduler ticks of both instances with the audit refusing.
    await sleep(3_000);

    const during = cluster.since(mark);
    expect(during.filter((answer) => answer.status < 500)).toEqual([]);
    for (const answer of during) {
      expect(answer.bodyHasSecret).toBe(false);
      for (const value of values) expect(answer.errorBody).not.toContain(value);
    }
    expect(await stored()).toEqual(before);
    const [{ n: eventsDuring }] = await cluster.db.query<{ n: number }[]>(
      'SELECT COUNT(*) AS n FROM audit_events',
    );
    expect(Number(eventsDuring)).toBe(Number(eventsBefore));
    const [{ n: runs }] = await cluster.db.query<{ n: number }[]>(
      'SELECT COUNT(*) AS n FROM rotation_runs',
    );
    expect(Number(runs)).toBe(0);
    expect(await cluster.invariants()).toEqual([]);

    await cluster.db.query(`DROP TRIGGER ${TRIGGER}`);
    await cluster.allReady(30_000);
    const recovered = cluster.answers.length;
    for (const app of cluster.apps) {
      for (const id of ids) expect((await cluster.request(app, 'reveal', id)).status).toBe(200);
      expect((await cluster.request(app, 'write', ids[4])).status).toBe(200);
    }
    expect(cluster.since(recovered)).toHaveLength(cluster.apps.length * (ids.length + 1));
    // The due rotations resume by themselves.
    await cluster.rotationsDone(ids.slice(0, 3), 1, 60_000);
    expect(await cluster.invariants()).toEqual([]);
  });
});
