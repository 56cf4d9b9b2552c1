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

  /** Connections to the scratch database busy with a statement (our own one not counted). */
  async function busyConnections(): Promise<number> {
    const [row] = await cluster.db.query<{ n: number }[]>(
      'SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST ' +
        "WHERE DB = DATABASE() AND COMMAND = 'Query' AND ID <> CONNECTION_ID()",
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
      const heldAt = Date.now();
      // Every pool connection of both instances ends up busy, waiting on the lock (or on a
      // row held by a transaction that waits on it).
      await until(
        async () => ((await busyConnections()) >= 2 * POOL_SIZE ? true : undefined),
        20_000,
        'both pools to fill up with statements waiting on the lock',
      );
      expect(cluster.relay.openConnections).toBe(2 * POOL_SIZE);
      // Readiness needs a connection for its ping: it says not ready, and does not hang.
      const readiness = await Promise.all(cluster.apps.map((app) => cluster.readiness(app)));
      expect(readiness).toEqual([503, 503]);
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
