import { randomBytes, randomInt } from 'node:crypto';
import { DataSource } from 'typeorm';
import { createScratchSqlite, ScratchDatabase } from '../src/database/cli/scratch-database';
import { TransactionRunner } from '../src/database/transaction-runner';
import { EventOutbox } from '../src/events/event-outbox';
import { OutboxReader, StreamEvent } from '../src/events/outbox-reader';
import { StreamSequencer } from '../src/events/stream-sequencer';
import { WebhookFanOut } from '../src/webhooks/delivery/webhook-fan-out';
import { inParallel, until } from './helpers/rotation-checks';
import { randomMasterKey, scratchMariadb, startApp, TestApp } from './helpers/test-app';

const ENV = {
  JWT_SECRET: randomBytes(48).toString('base64'),
  AUDIT_SINKS: 'none',
  ROTATION_SCHEDULER_ENABLED: 'false',
  EVENTS_SEQUENCE_INTERVAL_MS: '50',
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const DIALECTS = [
  ['MariaDB', scratchMariadb, 2],
  // One instance only: SQLite is the single-instance default.
  ['SQLite', () => Promise.resolve(createScratchSqlite()), 1],
] as const;

describe.each(DIALECTS)('Event stream sequence (%s)', (_dialect, scratch, instances) => {
  let database: ScratchDatabase;
  let apps: TestApp[];
  let db: DataSource;

  beforeAll(async () => {
    database = await scratch();
    const env = { ...ENV, CUSTOS_MASTER_KEY: randomMasterKey() };
    apps = [];
    // One after the other: the first migrates the database.
    for (let i = 0; i < instances; i++) apps.push(await startApp(database, { env }));
    db = apps[0].app.get(DataSource);
  });

  afterAll(async () => {
    for (const app of (apps ?? []).reverse()) await app.close();
    await database?.drop();
  });

  /**
   * One transaction publishing `count` events of `marker`, held open a random moment after its
   * inserts so that transactions commit in another order than their seqs; some roll back.
   */
  async function publish(
    app: TestApp,
    marker: string,
    first: number,
    count: number,
    fail: boolean,
  ) {
    const outbox = app.app.get(EventOutbox);
    await app.app
      .get(TransactionRunner)
      .run(async (manager) => {
        for (let i = 0; i < count; i++) {
          await outbox.publish(manager, {
            type: i % 2 ? 'rotation.started' : 'credential.expiring',
            resourceType: 'credential',
            resourceId: marker,
            path: `seq/${marker}`,
            data: { n: first + i },
          });
          await sleep(randomInt(0, 15));
        }
        await sleep(randomInt(0, 40));
        if (fail) throw new Error('rolled back on purpose');
      })
      .catch((error: Error) => {
        if (!fail) throw error;
      });
  }

  /**
   * Reads the stream from the start as a listener would, in small pages, until `done()`: each
   * page must go on from the last number seen, without a gap.
   */
  async function tail(app: TestApp, done: () => boolean): Promise<StreamEvent[]> {
    const reader = app.app.get(OutboxReader);
    const seen: StreamEvent[] = [];
    let cursor = 0n;
    for (;;) {
      const finished = done();
      const page = await reader.after(cursor.toString(), 7);
      for (const event of page) {
        expect(BigInt(event.streamSeq)).toBe(cursor + 1n);
        cursor = BigInt(event.streamSeq);
        seen.push(event);
      }
      if (finished && page.length === 0) return seen;
      if (page.length === 0) await sleep(5);
    }
  }

  it('should number every committed event once, consecutively, with publishers and sequencers racing', async () => {
    const marker = `race-${randomBytes(4).toString('hex')}`;
    const before = Number(await apps[0].app.get(OutboxReader).latest());
    const plans = Array.from({ length: 60 }, (_, i) => ({
      first: i * 10,
      count: 1 + (i % 4),
      fail: i % 9 === 4,
    }));
    const expected = plans
      .filter((plan) => !plan.fail)
      .flatMap((plan) => Array.from({ length: plan.count }, (_, i) => plan.first + i));
    let publishing = true;
    let stopped = false;
    // Each instance numbers on its timer (every 50 ms) and, racing it, in loops of its own.
    const racers = apps.flatMap((app) =>
      [0, 1].map(async () => {
        while (publishing) {
          await app.app.get(StreamSequencer).sequence();
          await sleep(randomInt(0, 10));
        }
      }),
    );
    const listener = tail(apps[apps.length - 1], () => stopped || (!publishing && allNumbered));
    let allNumbered = false;

    try {
      await inParallel(plans, 16, (plan, i) =>
        publish(apps[i % apps.length], marker, plan.first, plan.count, plan.fail),
      );
    } catch (error) {
      stopped = true;
      await listener.catch(() => undefined);
      throw error;
    } finally {
      publishing = false;
      await Promise.all(racers);
    }
    await until(
      async () => {
        const [row] = await db.query<{ n: number | string }[]>(
          'SELECT COUNT(*) AS n FROM event_outbox WHERE stream_seq IS NULL',
        );
        return Number(row.n) === 0 ? true : undefined;
      },
      10_000,
      'every event numbered',
    );
    allNumbered = true;
    const heard = await listener;

    const numbers = await db.query<{ stream_seq: string | number }[]>(
      'SELECT stream_seq FROM event_outbox WHERE stream_seq > ? ORDER BY stream_seq',
      [before],
    );
    expect(numbers.map((row) => Number(row.stream_seq))).toEqual(
      Array.from({ length: expected.length }, (_, i) => before + i + 1),
    );
    const [head] = await db.query<{ last: string | number }[]>(
      'SELECT last_stream_seq AS last FROM event_stream_head WHERE id = 1',
    );
    expect(Number(head.last)).toBe(before + expected.length);
    const ours = heard.filter((event) => event.resourceId === marker);
    expect(ours.map((event) => event.data.n as number).sort((a, b) => a - b)).toEqual(
      [...expected].sort((a, b) => a - b),
    );
    if (instances > 1) {
      // The race did happen: some events committed (and were numbered) before older seqs.
      const [inverted] = await db.query<{ n: number | string }[]>(
        'SELECT COUNT(*) AS n FROM event_outbox a JOIN event_outbox b ' +
          'ON a.seq < b.seq AND a.stream_seq > b.stream_seq WHERE a.resource_id = ? AND b.resource_id = ?',
        [marker, marker],
      );
      expect(Number(inverted.n)).toBeGreaterThan(0);
    }
    // Within one transaction, events keep their order.
    for (const plan of plans.filter((p) => !p.fail && p.count > 1)) {
      const order = ours
        .map((event) => event.data.n as number)
        .filter((n) => n >= plan.first && n < plan.first + plan.count);
      expect(order).toEqual([...order].sort((a, b) => a - b));
    }
  }, 60_000);

  it('should read after a sequence, filtered by exact type or prefix, as it was written', async () => {
    const marker = `read-${randomBytes(4).toString('hex')}`;
    const reader = apps[0].app.get(OutboxReader);
    const from = await reader.latest();
    await publish(apps[0], marker, 0, 4, false);
    // Another instance's sequencer may hold the counter (this pass then skips): wait for all 4.
    const all = await until(async () => {
      await apps[0].app.get(StreamSequencer).sequence();
      const page = await reader.after(from, 100);
      return page.length >= 4 ? page : undefined;
    });
    expect(all.map((event) => [event.type, event.data.n])).toEqual([
      ['credential.expiring', 0],
      ['rotation.started', 1],
      ['credential.expiring', 2],
      ['rotation.started', 3],
    ]);
    expect(all[0]).toEqual({
      streamSeq: String(Number(from) + 1),
      type: 'credential.expiring',
      resourceType: 'credential',
      resourceId: marker,
      path: `seq/${marker}`,
      data: { n: 0 },
      createdAt: expect.any(Date),
    });
    expect(Math.abs(all[0].createdAt.getTime() - Date.now())).toBeLessThan(60_000);
    expect(await reader.latest()).toBe(all[3].streamSeq);
    expect((await reader.after(from, 100, { types: ['rotation.*'] })).map((e) => e.data.n)).toEqual(
      [1, 3],
    );
    expect(
      (await reader.after(from, 100, { types: ['credential.expiring'] })).map((e) => e.data.n),
    ).toEqual([0, 2]);
    expect((await reader.after(all[1].streamSeq, 2)).map((e) => e.data.n)).toEqual([2, 3]);
    expect(await reader.after(all[3].streamSeq, 100)).toEqual([]);
  });

  it('should let the webhook fan-out skip past the stream when nobody listens', async () => {
    const marker = `skip-${randomBytes(4).toString('hex')}`;
    await publish(apps[0], marker, 0, 3, false);
    await apps[0].app.get(StreamSequencer).sequence();
    const latest = BigInt(await apps[0].app.get(OutboxReader).latest());
    const fanOut = apps[0].app.get(WebhookFanOut);

    // The dispatcher's own passes race these; a pass that loses answers 0, never an error.
    await until(
      async () => {
        await fanOut.pass();
        const [cursor] = await db.query<{ last: string | number }[]>(
          'SELECT last_stream_seq AS last FROM webhook_fanout_cursor WHERE id = 1',
        );
        return BigInt(cursor.last) >= latest ? true : undefined;
      },
      10_000,
      'the fan-out cursor at the head of the stream',
    );
  });

  it('should refuse a stream sequence or page size that is not a whole number', async () => {
    const reader = apps[0].app.get(OutboxReader);

    await expect(reader.after('1; DROP TABLE event_outbox', 10)).rejects.toThrow(RangeError);
    await expect(reader.after(-1, 10)).rejects.toThrow(RangeError);
    await expect(reader.after(0, 0)).rejects.toThrow(RangeError);
  });
});
