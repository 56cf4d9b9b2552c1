import { until } from '../helpers/rotation-checks';
import { FaultCluster, sleep } from './helpers/fault-cluster';

/**
 * kill -9 of an instance while it holds rotation runs, under load on both instances; then the
 * same instance started again. Its runs are taken over once their claims expire and finish; what
 * the killed process answered before it died, and everything stored, passes the invariant checker.
 * (test/rotation-crash.e2e-spec.ts kills at each persisted step through failpoints; this one
 * kills from outside, wherever the process happens to be.)
 */
describe('An instance killed with SIGKILL mid-rotation (two spawned instances, MariaDB)', () => {
  let cluster: FaultCluster;
  let ids: string[];

  beforeAll(async () => {
    // A small batch per tick, so both instances hold runs of the same batch at once.
    cluster = await FaultCluster.start(2, { ROTATION_BATCH_SIZE: '3' });
    ids = await cluster.credentials('kill', 24);
  }, 120_000);

  afterAll(async () => {
    await cluster?.close();
  });

  it('should finish the runs of a killed instance after it restarts, and keep every invariant', async () => {
    const doomed = cluster.apps[1];
    const pid = doomed.process.pid!;
    const load = cluster.load(ids);
    await sleep(500);
    await cluster.makeDue(ids);

    // Kill it while it holds a run that has not finished.
    const heldRuns = () =>
      cluster.db.query<{ id: string }[]>(
        "SELECT id FROM rotation_runs WHERE status = 'running' AND claimed_by LIKE ?",
        [`%:${pid}:%`],
      );
    await until(
      async () => {
        const rows = await heldRuns();
        return rows.length > 0 ? true : undefined;
      },
      20_000,
      'the doomed instance to hold a run',
    );
    doomed.process.kill('SIGKILL');
    await doomed.exited;
    expect(doomed.process.signalCode).toBe('SIGKILL');
    const orphaned = (await heldRuns()).map((row) => row.id);
    expect(orphaned.length).toBeGreaterThan(0);

    await sleep(1_000);
    const restarted = await cluster.spawn({}, doomed);
    await cluster.allReady(30_000);
    const readyAt = Date.now();
    await sleep(1_000);
    await load.stop();

    // Both instances serve again: the restarted one answered 200s too.
    const afterRestart = cluster.answers.filter((answer) => answer.sentAt >= readyAt);
    expect(afterRestart.some((answer) => answer.status === 200)).toBe(true);
    expect(restarted.process.exitCode).toBeNull();

    await cluster.rotationsDone(ids, 1, 60_000);
    const runs = await cluster.db.query<{ id: string; status: string }[]>(
      'SELECT id, status FROM rotation_runs WHERE id IN (?)',
      [orphaned],
    );
    expect(runs.filter((run) => run.status !== 'succeeded')).toEqual([]);
    expect(await cluster.invariants()).toEqual([]);
  });
});
