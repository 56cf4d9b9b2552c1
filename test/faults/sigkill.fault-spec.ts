import { SpawnedApp } from '../helpers/spawned-app';
import { FaultCluster, sleep } from './helpers/fault-cluster';
import { TcpRelay } from './helpers/tcp-relay';

/**
 * kill -9 of an instance while it holds rotation runs, under load on both instances; then the
 * same instance started again. It takes its runs over once their claims expire and they finish; what
 * the killed process answered before it died, and everything stored, passes the invariant checker.
 * (test/rotation-crash.e2e-spec.ts kills at each persisted step through failpoints; this one
 * kills from outside, wherever the process happens to be.)
 */
const ROTATING = { ROTATION_TICK: 'PT1S' };

describe('An instance killed with SIGKILL mid-rotation (two spawned instances, MariaDB)', () => {
  let cluster: FaultCluster;
  let ids: string[];
  let doomed: SpawnedApp;
  /** The doomed instance's own way to the database, to freeze it mid-rotation before the kill. */
  let doomedRelay: TcpRelay;

  beforeAll(async () => {
    // Only the doomed instance rotates (the other one's scheduler waits an hour), in small
    // batches: it is sure to hold runs when the test looks, whatever the machine's speed.
    cluster = await FaultCluster.start(1, { ROTATION_BATCH_SIZE: '3', ROTATION_TICK: 'PT1H' });
    doomedRelay = await cluster.addRelay();
    doomed = await cluster.spawn(ROTATING, undefined, doomedRelay);
    ids = await cluster.credentials('kill', 24);
  }, 120_000);

  afterAll(async () => {
    await cluster?.close();
  });

  it('should finish the runs of a killed instance after it restarts, and keep every invariant', async () => {
    const pid = doomed.process.pid!;
    const load = cluster.load(ids);
    await sleep(500);
    await cluster.makeDue(ids);

    // Kill it while it holds a run that has not finished: its database frozen (so the run can
    // neither finish nor fail), seen holding the run, then SIGKILL.
    const heldRuns = () =>
      cluster.db.query<{ id: string }[]>(
        "SELECT id FROM rotation_runs WHERE status = 'running' AND claimed_by LIKE ?",
        [`%:${pid}:%`],
      );
    // Looked at without a pause between looks: a run is held for a few round trips only.
    const deadline = Date.now() + 20_000;
    let orphaned: string[] = [];
    while (orphaned.length === 0) {
      if (Date.now() > deadline) throw new Error('the doomed instance never held a run');
      if ((await heldRuns()).length === 0) continue;
      doomedRelay.pause();
      orphaned = (await heldRuns()).map((row) => row.id);
      if (orphaned.length === 0) doomedRelay.restore();
    }
    doomed.process.kill('SIGKILL');
    await doomed.exited;
    expect(doomed.process.signalCode).toBe('SIGKILL');
    doomedRelay.restore();

    await sleep(1_000);
    const restarted = await cluster.spawn(ROTATING, doomed, doomedRelay);
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
