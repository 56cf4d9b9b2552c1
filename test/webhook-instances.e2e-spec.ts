import { DataSource } from 'typeorm';
import { ScratchDatabase } from '../src/database/cli/scratch-database';
import { DeliveryClaims } from '../src/webhooks/delivery/delivery-claims';
import { WebhookDispatcher } from '../src/webhooks/delivery/webhook-dispatcher';
import { WebhookFanOut } from '../src/webhooks/delivery/webhook-fan-out';
import { openDirect } from './helpers/audit-db';
import { Headers } from './helpers/credential-fixtures';
import { HttpsReceiver } from './helpers/https-receiver';
import { inParallel, until } from './helpers/rotation-checks';
import {
  bearerFor,
  randomMasterKey,
  scratchMariadb,
  startApp,
  startInstances,
  TestApp,
} from './helpers/test-app';

const API = '/api/v1';
const INCIDENTS = 60;

interface Subscription {
  id: string;
  path: string;
}

/**
 * Webhook dispatchers on two instances of one database, both fanning out and claiming while
 * events are written: the fan-out cursor's compare-and-set must turn each event into one delivery
 * per subscription, and the claims must send each delivery once.
 */
describe('Webhook delivery across two instances (MariaDB, HTTPS receiver)', () => {
  let database: ScratchDatabase;
  let db: DataSource;
  let receiver: HttpsReceiver;
  let a: TestApp;
  let b: TestApp;
  let admin: Headers;

  beforeAll(async () => {
    receiver = await HttpsReceiver.start();
    // A receiver a little slow, so one instance's sends are in flight while the other claims.
    receiver.responder = () => ({ status: 204, delayMs: 15 });
    database = await scratchMariadb();
    const env = {
      THROTTLE_LIMIT: '1000000',
      CUSTOS_OUTBOUND_ALLOW_LOOPBACK: 'true',
      CUSTOS_OUTBOUND_CA_FILE: receiver.caFile,
      // The test drives both dispatchers, side by side.
      WEBHOOKS_DISPATCHER_ENABLED: 'false',
      WEBHOOKS_CONCURRENCY: '4',
      // A busy test machine may hold an answer up; a timed-out send would be sent again.
      CUSTOS_OUTBOUND_TIMEOUT_MS: '30000',
      EVENTS_SEQUENCE_INTERVAL_MS: '50',
    };
    [a, b] = await startInstances(database, env);
    db = await openDirect(database);
    admin = { authorization: await bearerFor(a, 'admin') };
  }, 60_000);

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await db?.destroy();
    await database?.drop();
    await receiver?.close();
  });

  async function subscribe(app: TestApp, path: string): Promise<Subscription> {
    const response = await app.http
      .post(`${API}/webhooks`)
      .set(admin)
      .send({ url: receiver.url(path), events: ['incident.*'] })
      .expect(201);
    return { id: (response.body as { id: string }).id, path };
  }

  /** The stream seqs of incident.opened events a subscription must get: those after its start. */
  async function owed(subscription: Subscription): Promise<string[]> {
    const rows = await db.query<{ seq: string }[]>(
      'SELECT CAST(e.stream_seq AS CHAR) AS seq FROM event_outbox e ' +
        'JOIN webhook_subscriptions s ON s.id = ? ' +
        "WHERE e.type = 'incident.opened' AND e.stream_seq > s.start_stream_seq ORDER BY e.stream_seq",
      [subscription.id],
    );
    return rows.map((row) => row.seq);
  }

  function deliveriesOf(subscription: Subscription) {
    return db.query<
      { status: string; attempts: number; claimed_by: string | null; last_error: string | null }[]
    >(
      'SELECT status, attempts, claimed_by, last_error FROM webhook_deliveries WHERE subscription_id = ?',
      [subscription.id],
    );
  }

  function received(subscription: Subscription): string[] {
    return receiver
      .to(subscription.path)
      .map((request) => (JSON.parse(request.body) as { event: { id: string } }).event.id);
  }

  it('should deliver every event once to each subscription, one joining mid-stream included', async () => {
    const early = await subscribe(a, '/early');
    let late: Subscription | undefined;
    let writing = true;
    const dispatchers = [a, b].map(async (app) => {
      const dispatcher = app.app.get(WebhookDispatcher);
      while (writing) await dispatcher.drain();
    });

    await inParallel(
      Array.from({ length: INCIDENTS }, (_, i) => i),
      8,
      async (i) => {
        const app = i % 2 === 0 ? a : b;
        if (i === INCIDENTS / 2) late = await subscribe(app, '/late');
        await app.http
          .post(`${API}/incidents`)
          .set(admin)
          .send({ type: 'other', severity: 'low', title: `incident ${i}` })
          .expect(201);
      },
    );
    writing = false;
    await Promise.all(dispatchers);
    const subscriptions = [early, late as Subscription];
    const allReceived = async () => {
      await Promise.all([a, b].map((app) => app.app.get(WebhookDispatcher).drain()));
      const [{ unsequenced }] = await db.query<{ unsequenced: number }[]>(
        'SELECT COUNT(*) AS unsequenced FROM event_outbox WHERE stream_seq IS NULL',
      );
      const counts = await Promise.all(
        subscriptions.map(async (s) => received(s).length >= (await owed(s)).length),
      );
      return (Number(unsequenced) === 0 && counts.every(Boolean)) || undefined;
    };
    await until(allReceived, 30_000).catch(async (error: Error) => {
      const deliveries = await db.query(
        'SELECT subscription_id, status, attempts, last_error, COUNT(*) AS n FROM webhook_deliveries ' +
          'GROUP BY subscription_id, status, attempts, last_error',
      );
      const got = subscriptions.map((s) => ({ path: s.path, received: received(s).length }));
      throw new Error(`${error.message}: ${JSON.stringify({ deliveries, got })}`);
    });

    expect(await owed(early)).toHaveLength(INCIDENTS);
    for (const subscription of subscriptions) {
      const expected = await owed(subscription);
      // Sent once each, and exactly the events after the subscription began.
      expect([...received(subscription)].sort()).toEqual([...expected].sort());
      const rows = await db.query<{ seq: string; status: string; attempts: number }[]>(
        'SELECT CAST(stream_seq AS CHAR) AS seq, status, attempts FROM webhook_deliveries ' +
          'WHERE subscription_id = ?',
        [subscription.id],
      );
      expect(rows.map((row) => row.seq).sort()).toEqual([...expected].sort());
      expect(rows.every((row) => row.status === 'succeeded' && Number(row.attempts) === 1)).toBe(
        true,
      );
    }
    // The late subscription began mid-stream: some events were before it.
    expect((await owed(late as Subscription)).length).toBeLessThan(INCIDENTS);
  }, 90_000);

  it('should leave deliveries to the instances that can sign them: a sealed one claims nothing, one without the key gives its claim back', async () => {
    const subscription = await subscribe(a, '/unsealed-only');
    // Same database, wrong master key: sealed. Its dispatcher runs on its own schedule.
    const sealed = await startApp(database, {
      env: {
        ...a.env,
        CUSTOS_MASTER_KEY: randomMasterKey(),
        WEBHOOKS_DISPATCHER_ENABLED: 'true',
        WEBHOOKS_DISPATCH_INTERVAL_MS: '100',
      },
    });
    try {
      await a.http
        .post(`${API}/incidents`)
        .set(admin)
        .send({ type: 'other', severity: 'low', title: 'while one instance is sealed' })
        .expect(201);
      // Fanned out by a, then left alone for the sealed instance's timer to find.
      await until(async () => {
        await a.app.get(WebhookFanOut).pass();
        const [row] = await deliveriesOf(subscription);
        return row;
      });
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(await deliveriesOf(subscription)).toEqual([
        { status: 'pending', attempts: 0, claimed_by: null, last_error: null },
      ]);

      // An instance that claimed it but cannot open the secret gives it back, costing no attempt.
      const claims = a.app.get(DeliveryClaims);
      const claimed = await claims.claim(50);
      expect(claimed.map((item) => item.delivery.subscriptionId)).toContain(subscription.id);
      for (const item of claimed) {
        const given = await claims.record(item.delivery, {
          ok: false,
          unsent: true,
          error: 'Master key "k0" is not configured on this instance',
        });
        expect(given).toBe(true);
      }
      expect(await deliveriesOf(subscription)).toEqual([
        {
          status: 'pending',
          attempts: 0,
          claimed_by: null,
          last_error: 'Master key "k0" is not configured on this instance',
        },
      ]);
    } finally {
      await sealed.close();
    }
  });
});
