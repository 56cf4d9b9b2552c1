import { FaultCluster, sleep } from './helpers/fault-cluster';
import { Answer, checkInvariants } from './helpers/invariants';

/**
 * The database goes away under load: two instances serve reveals and secret writes and rotate a
 * batch of credentials, and the relay between them and MariaDB is cut (connections reset) or
 * paused (bytes held) for two seconds. Nothing may be answered without its audit event, the
 * instances must become ready again by themselves, and the rotations must finish.
 */
describe('Database cut and paused under load (two spawned instances, MariaDB)', () => {
  let cluster: FaultCluster;
  let ids: string[];

  beforeAll(async () => {
    // Two runs per tick and instance: a batch of six takes a few ticks, so a fault can hit it.
    cluster = await FaultCluster.start(2, { ROTATION_BATCH_SIZE: '2' });
    ids = await cluster.credentials('cut', 12);
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

  it('should answer 5xx during a cut mid-rotation, recover by itself after it, and keep every invariant', async () => {
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
    await sleep(Math.max(0, cutAt + 2_000 - Date.now()));
    const restoredAt = Date.now();
    cluster.relay.restore();

    await cluster.allReady(30_000);
    const readyAt = Date.now();
    await sleep(1_000);
    await load.stop();

    const during = within(cluster.answers, cutAt, restoredAt);
    expect(during.length).toBeGreaterThan(0);
    // A database that resets connections is an error the app must answer, fast and without a value.
    expect(during.filter((answer) => answer.status < 500)).toEqual([]);
    const after = cluster.answers.filter((answer) => answer.sentAt >= readyAt);
    expect(after.some((answer) => answer.status === 200)).toBe(true);

    await cluster.rotationsDone(batch, 1, 60_000);
    expect(await cluster.invariants()).toEqual([]);
    // The cut found the batch under way (not all of it finished before the cut).
    expect(atCut.succeeded ?? 0).toBeLessThan(batch.length);
  });

  it('should finish the requests held by a paused database once it answers again, and keep every invariant', async () => {
    const batch = ids.slice(6);
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
});
