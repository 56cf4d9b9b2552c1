import { until } from '../helpers/rotation-checks';
import { FaultCluster, sleep } from './helpers/fault-cluster';

const POOL_SIZE = 4;

/**
 * Every connection of both instances' pools taken: the test holds the audit lane heads locked
 * (SELECT … FOR UPDATE in its own transaction), so every audited request and rotation step
 * waits on the lock with a pool connection in hand, and the requests behind them wait for a
 * connection. Nothing may be answered without its event while the pools are full; once the lock
 * goes, every waiting request finishes, readiness comes back by itself and the invariants hold.
 */
describe('Connection pools full (two spawned instances, MariaDB)', () => {
  let cluster: FaultCluster;
  let ids: string[];

  beforeAll(async () => {
    cluster = await FaultCluster.start(2, { DB_POOL_SIZE: String(POOL_SIZE) });
    ids = await cluster.credentials('pool', 8);
  }, 120_000);

  afterAll(async () => {
    await cluster?.close();
  });

  /**
   * Connections to the scratch database that are taken (our own ones not counted): running a
   * statement, or holding a transaction open between two (a unit of work whose next statement
   * waits in the app, for instance on a connection of the full pool).
   */
  async function busyConnections(holderId: number): Promise<number> {
    const [row] = await cluster.db.query<{ n: number }[]>(
      'SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST p ' +
        'WHERE p.DB = DATABASE() AND p.ID <> CONNECTION_ID() AND p.ID <> ? ' +
        "AND (p.COMMAND = 'Query' OR EXISTS (SELECT 1 FROM information_schema.INNODB_TRX t " +
        'WHERE t.trx_mysql_thread_id = p.ID))',
      [holderId],
    );
    return Number(row.n);
  }

  it('should answer nothing unaudited while the pools are full, and drain and recover once they free up', async () => {
    // Eight clients on each instance: twice its pool.
    const loads = cluster.apps.map((app) => cluster.load(ids, 2 * POOL_SIZE, () => [app]));
    await sleep(500);
    // Due before the lock (a secret write waiting on the lock holds its credential's row).
    await cluster.makeDue(ids.slice(0, 4));
    const holder = cluster.db.createQueryRunner();
    await holder.connect();
    await holder.startTransaction();
    let released = false;
    try {
      await holder.query('SELECT lane FROM audit_chain_heads FOR UPDATE');
      const [{ id: holderId }] = (await holder.query('SELECT CONNECTION_ID() AS id')) as {
        id: number;
      }[];
      const heldAt = Date.now();
      // Every pool connection of both instances ends up taken, waiting on the lock (or on a
      // row held by a transaction that waits on it, or in a transaction waiting for the pool).
      await until(
        async () => ((await busyConnections(holderId)) >= 2 * POOL_SIZE ? true : undefined),
        20_000,
        'both pools to fill up with work waiting on the lock',
      );
      expect(cluster.relay.openConnections).toBe(2 * POOL_SIZE);
      // Readiness needs a connection for its ping: it answers within its 5 s timeout and does
      // not hang. Whether it finds the pool full depends on the moment: audited requests of one
      // instance may be queued in its group commit rather than each holding a connection, so a
      // look may find one free (seen in CI). Not ready without the database: the db-cut case.
      const readiness = await Promise.all(cluster.apps.map((app) => cluster.readiness(app)));
      expect(readiness.filter((status) => status !== 503 && status !== 200)).toEqual([]);
      await sleep(1_000);
      const releasedAt = Date.now();
      await holder.commitTransaction();
      released = true;

      // While the pools were full, nothing was answered 200 (each answer needs its audit event).
      const during = cluster.answers.filter(
        (answer) => answer.sentAt >= heldAt && answer.answeredAt <= releasedAt,
      );
      expect(during.filter((answer) => answer.status === 200)).toEqual([]);
    } finally {
      if (!released) await holder.rollbackTransaction();
      await holder.release();
    }
    await cluster.allReady(30_000);
    const readyAt = Date.now();
    await sleep(1_000);
    await Promise.all(loads.map((load) => load.stop()));

    // The requests that queued behind the full pools were answered, none dropped.
    expect(cluster.answers.filter((answer) => answer.status === 0)).toEqual([]);
    expect(cluster.answers.filter((answer) => answer.status >= 500)).toEqual([]);
    expect(
      cluster.answers.some((answer) => answer.sentAt >= readyAt && answer.status === 200),
    ).toBe(true);
    await cluster.rotationsDone(ids.slice(0, 4), 1, 60_000);
    expect(await cluster.invariants()).toEqual([]);
  });
});
