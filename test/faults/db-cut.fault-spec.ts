import { SpawnedApp } from '../helpers/spawned-app';
import { FaultCluster, sleep } from './helpers/fault-cluster';
import { Answer, checkInvariants } from './helpers/invariants';

/** A cut that outlasts every retry: the request's, the pool's and several rotation ticks. */
const LONG_CUT_MS = 6_000;

/**
 * The database goes away under load: two instances serve reveals and secret writes and rotate a
 * batch of credentials, and the relay between them and MariaDB is cut (connections reset) for
 * longer than any retry waits, or paused (bytes held) for two seconds, or paused while one
 * instance is killed holding rotation runs. Nothing may be answered without its audit event, the
 * instances must become ready again by themselves, and the rotations must finish.
 */
describe('Database cut and paused under load (two spawned instances, MariaDB)', () => {
  let cluster: FaultCluster;
  let ids: string[];

  beforeAll(async () => {
    // Two runs per tick and instance: a batch of six takes a few ticks, so a fault can hit it.
    cluster = await FaultCluster.start(2, { ROTATION_BATCH_SIZE: '2' });
    ids = await cluster.credentials('cut', 20);
  }, 120_000);

  afterAll(async () => {
    await cluster?.close();
  });

  /** The answers sent after `from` and answered before `to`: wholly inside the outage. */
  function within(answers: Answer[], from: number, to: number): Answer[] {
    return answers.filter((answer) => answer.sentAt >= from && answer.answeredAt <= to);
  }

  it('should find nothing wrong before any fault, and flag a 200 whose event never committed', async () => {
    const load = cluster.load(ids);
    await sleep(1_000);
    await load.stop();
    expect(cluster.answers.filter((answer) => answer.status === 200).length).toBeGreaterThan(0);
    expect(await cluster.invariants()).toEqual([]);

    // The checker is not vacuous: a reveal answered 200 with no event, and a 500 carrying a secret.
    const invented: Answer[] = [
      {
        kind: 'reveal',
        requestId: 'fault-invented',
        credentialId: ids[0],
        status: 200,
        version: 1,
        state: 'current',
        sentAt: 0,
        answeredAt: 0,
      },
      {
        kind: 'reveal',
        requestId: 'fault-leaky',
        credentialId: ids[0],
        status: 500,
        bodyHasSecret: true,
        sentAt: 0,
        answeredAt: 0,
      },
    ];
    const problems = await checkInvariants({
      db: cluster.db,
      databaseUrl: cluster.database.url!,
      masterKey: cluster.masterKey,
      answers: invented,
    });
    expect(problems).toEqual([
      'reveal fault-leaky: a 500 with a secret in it',
      `reveal fault-invented of ${ids[0]}: answered 200, but no committed credential.reveal event`,
    ]);
  });

  it('should answer 503 with Retry-After during a cut mid-rotation that outlasts every retry, recover by itself after it, and keep every invariant', async () => {
    const batch = ids.slice(0, 6);
    const load = cluster.load(ids);
    await sleep(500);
    await cluster.makeDue(batch);
    // The first tick of either instance opens the batch's runs: cut right then.
    await cluster.runsStarted(batch);
    const cutAt = Date.now();
    cluster.relay.cut();
    const atCut = await cluster.runCounts(batch);
    await sleep(500);
    // Readiness says so, and answers (it does not hang on the dead database).
    const readiness = await Promise.all(cluster.apps.map((app) => cluster.readiness(app)));
    expect(readiness).toEqual([503, 503]);
    await sleep(Math.max(0, cutAt + LONG_CUT_MS - Date.now()));
    const restoredAt = Date.now();
    cluster.relay.restore();

    await cluster.allReady(30_000);
    const readyAt = Date.now();
    await sleep(1_000);
    await load.stop();

    const during = within(cluster.answers, cutAt + 100, restoredAt);
    // Many requests, each answered within the outage (none hung until it ended).
    expect(during.length).toBeGreaterThan(10);
    expect(during.filter((answer) => answer.status === 0)).toEqual([]);
    // A database that resets connections is answered fast, as unavailable (503 with Retry-After,
    // never 500), without a value or the database's words.
    expect(
      during.filter((answer) => answer.status !== 503 || answer.retryAfter === undefined),
    ).toEqual([]);
    expect(during.filter((answer) => answer.bodyHasSecret)).toEqual([]);
    const wordy = during.filter((answer) =>
      /SELECT|INSERT|UPDATE |ECONNREFUSED|ECONNRESET|\bat .*\.js:\d+/.test(answer.errorBody ?? ''),
    );
    expect(wordy).toEqual([]);
    const after = cluster.answers.filter((answer) => answer.sentAt >= readyAt);
    expect(after.some((answer) => answer.status === 200)).toBe(true);

    await cluster.rotationsDone(batch, 1, 60_000);
    expect(await cluster.invariants()).toEqual([]);
    // The cut found the batch under way (not all of it finished before the cut).
    expect(atCut.succeeded ?? 0).toBeLessThan(batch.length);
  });

  it('should finish the requests held by a paused database once it answers again, and keep every invariant', async () => {
    const batch = ids.slice(6, 12);
    const load = cluster.load(ids);
    await sleep(500);
    await cluster.makeDue(batch);
    await cluster.runsStarted(batch);
    const pausedAt = Date.now();
    cluster.relay.pause();
    const readiness = await Promise.all(cluster.apps.map((app) => cluster.readiness(app)));
    expect(readiness).toEqual([503, 503]);
    await sleep(Math.max(0, pausedAt + 2_000 - Date.now()));
    const restoredAt = Date.now();
    cluster.relay.restore();

    await cluster.allReady(30_000);
    await sleep(1_000);
    await load.stop();

    // Nothing got through while the database was silent.
    expect(within(cluster.answers, pausedAt + 100, restoredAt)).toEqual([]);
    // The requests in flight when it fell silent waited, and were answered once it spoke again.
    const held = cluster.answers.filter(
      (answer) => answer.sentAt < restoredAt && answer.answeredAt >= restoredAt,
    );
    expect(held.length).toBeGreaterThan(0);
    expect(held.filter((answer) => answer.status === 0)).toEqual([]);
    expect(held.some((answer) => answer.status === 200)).toBe(true);

    await cluster.rotationsDone(batch, 1, 60_000);
    expect(await cluster.invariants()).toEqual([]);
  });

  it('should recover from the database paused mid-rotation while the other instance is SIGKILLed', async () => {
    const batch = ids.slice(12);
    const load = cluster.load(ids);
    await sleep(500);
    await cluster.makeDue(batch);

    // Runs held by an instance (claimed_by is host:pid:nonce), whichever instance it is.
    const held = () =>
      cluster.db.query<{ id: string; claimed_by: string }[]>(
        "SELECT id, claimed_by FROM rotation_runs WHERE status = 'running' AND claimed_by IS NOT NULL",
      );
    // The moment an instance holds a run, the database falls silent for everyone; that
    // instance is the one killed.
    const deadline = Date.now() + 20_000;
    let orphaned: string[] = [];
    let doomed: SpawnedApp | undefined;
    while (!doomed) {
      if (Date.now() > deadline) throw new Error('no instance was seen holding a run');
      if ((await held()).length === 0) continue;
      cluster.relay.pause();
      const runs = await held();
      const pid = runs[0]?.claimed_by.split(':')[1];
      doomed = cluster.apps.find((app) => String(app.process.pid) === pid);
      orphaned = runs.filter((run) => run.claimed_by.split(':')[1] === pid).map((run) => run.id);
      if (!doomed) cluster.relay.restore();
    }
    const survivor = cluster.apps.find((app) => app !== doomed)!;
    const pausedAt = Date.now();
    doomed.process.kill('SIGKILL');
    await doomed.exited;
    expect(doomed.process.signalCode).toBe('SIGKILL');
    // The survivor cannot reach the database either, and says so.
    expect(await cluster.readiness(survivor)).toBe(503);
    await sleep(Math.max(0, pausedAt + 2_000 - Date.now()));
    cluster.relay.restore();

    await cluster.spawn({}, doomed);
    await cluster.allReady(30_000);
    const readyAt = Date.now();
    await sleep(1_000);
    await load.stop();

    expect(
      cluster.answers.some((answer) => answer.sentAt >= readyAt && answer.status === 200),
    ).toBe(true);
    await cluster.rotationsDone(batch, 1, 60_000);
    const runs = await cluster.db.query<{ id: string; status: string }[]>(
      'SELECT id, status FROM rotation_runs WHERE id IN (?)',
      [orphaned],
    );
    expect(runs.filter((run) => run.status !== 'succeeded')).toEqual([]);
    expect(await cluster.invariants()).toEqual([]);
  });
});
