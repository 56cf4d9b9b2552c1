import type { LookupAddress } from 'node:dns';
import { DataSource } from 'typeorm';
import { ScratchDatabase } from '../src/database/cli/scratch-database';
import { OutboundGuard } from '../src/outbound/outbound-guard';
import { verifySignature } from '../src/outbound/webhook-signature';
import { RotationScheduler } from '../src/rotation/engine/rotation-scheduler';
import { WebhookDispatcher } from '../src/webhooks/delivery/webhook-dispatcher';
import { openDirect } from './helpers/audit-db';
import { createCredential, Headers } from './helpers/credential-fixtures';
import { HttpsReceiver, ReceivedRequest } from './helpers/https-receiver';
import { until } from './helpers/rotation-checks';
import { bearerFor, scratchMariadb, startApp, TestApp } from './helpers/test-app';

const API = '/api/v1';

interface Subscription {
  id: string;
  url: string;
  events: string[];
  active: boolean;
  secret?: string;
}

interface Delivery {
  id: string;
  eventId: string;
  eventType: string;
  status: string;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  redeliveryOf: string | null;
}

interface SignedBody {
  deliveryId: string;
  subscriptionId: string;
  event: {
    id: string;
    type: string;
    resourceId: string;
    path: string;
    data: Record<string, unknown>;
  };
}

/** Names only these tests resolve: the app's guard asks this instead of DNS. */
function testResolver() {
  const names: Record<string, string> = { 'hooks.test': '127.0.0.1', 'intranet.test': '10.1.2.3' };
  return (host: string): Promise<LookupAddress[]> =>
    names[host]
      ? Promise.resolve([{ address: names[host], family: 4 }])
      : Promise.reject(Object.assign(new Error('not found'), { code: 'ENOTFOUND' }));
}

describe('Webhook subscriptions (MariaDB, HTTPS receiver)', () => {
  let database: ScratchDatabase;
  let db: DataSource;
  let receiver: HttpsReceiver;
  let sut: TestApp;
  let admin: Headers;

  beforeAll(async () => {
    receiver = await HttpsReceiver.start();
    database = await scratchMariadb();
    sut = await startApp(database, {
      env: {
        THROTTLE_LIMIT: '100000',
        ROTATION_TICK: 'PT1S',
        CUSTOS_OUTBOUND_ALLOW_LOOPBACK: 'true',
        CUSTOS_OUTBOUND_CA_FILE: receiver.caFile,
        CUSTOS_OUTBOUND_TIMEOUT_MS: '3000',
        // The tests drive the dispatcher themselves, one pass at a time.
        WEBHOOKS_DISPATCHER_ENABLED: 'false',
        WEBHOOKS_MAX_ATTEMPTS: '3',
        WEBHOOKS_RETRY_BACKOFF: 'PT1S',
        WEBHOOKS_RETRY_BACKOFF_MAX: 'PT1S',
        EVENTS_SEQUENCE_INTERVAL_MS: '50',
      },
    });
    Reflect.set(sut.app.get(OutboundGuard), 'resolver', testResolver());
    db = await openDirect(database);
    admin = { authorization: await bearerFor(sut, 'admin') };
  });

  afterAll(async () => {
    await sut?.close();
    await db?.destroy();
    await database?.drop();
    await receiver?.close();
  });

  beforeEach(() => {
    receiver.requests.length = 0;
    receiver.responder = () => ({ status: 204 });
  });

  const dispatcher = () => sut.app.get(WebhookDispatcher);

  async function subscribe(path: string, events: string[], host = '127.0.0.1') {
    const response = await sut.http
      .post(`${API}/webhooks`)
      .set(admin)
      .send({ url: receiver.url(path, host), events, description: `e2e ${path}` })
      .expect(201);
    return response.body as Subscription;
  }

  async function rotateGenerated(path: string): Promise<string> {
    const credential = await createCredential(sut, admin, { path });
    await sut.http
      .put(`${API}/credentials/${credential.id}/rotation`)
      .set(admin)
      .send({
        enabled: true,
        interval: 'P30D',
        gracePeriod: 'PT1H',
        rotator: { kind: 'generated' },
      })
      .expect(200);
    const accepted = await sut.http
      .post(`${API}/credentials/${credential.id}/rotate`)
      .set(admin)
      .send({})
      .expect(202);
    const runId = (accepted.body as { runId: string }).runId;
    await until(async () => {
      await sut.app.get(RotationScheduler).tick();
      const run = await sut.http.get(`${API}/rotations/${runId}`).set(admin).expect(200);
      return (run.body as { status: string }).status === 'succeeded' ? true : undefined;
    });
    return credential.id;
  }

  /** Dispatcher passes until `probe` holds. */
  function dispatchUntil<T>(probe: () => Promise<T | undefined> | T | undefined, ms = 20_000) {
    return until(async () => {
      await dispatcher().drain();
      return probe();
    }, ms);
  }

  async function deliveries(id: string, status?: string): Promise<Delivery[]> {
    const response = await sut.http
      .get(`${API}/webhooks/${id}/deliveries${status ? `?status=${status}` : ''}`)
      .set(admin)
      .expect(200);
    return (response.body as { items: Delivery[] }).items;
  }

  function bodyOf(request: ReceivedRequest): SignedBody {
    return JSON.parse(request.body) as SignedBody;
  }

  it('should show the signing secret only in the create answer, sealed in the database', async () => {
    const created = await subscribe('/secret-check', ['rotation.*']);

    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    const read = await sut.http.get(`${API}/webhooks/${created.id}`).set(admin).expect(200);
    expect(read.body).not.toHaveProperty('secret');
    const list = await sut.http.get(`${API}/webhooks`).set(admin).expect(200);
    expect(JSON.stringify(list.body)).not.toContain(created.secret);
    const [row] = await db.query<{ secret_sealed: string }[]>(
      'SELECT secret_sealed FROM webhook_subscriptions WHERE id = ?',
      [created.id],
    );
    expect(row.secret_sealed).toMatch(/^k1:v1\./);
    expect(row.secret_sealed).not.toContain(created.secret!.slice(6));
    const audit = await db.query<{ action: string; details: string }[]>(
      "SELECT action, details FROM audit_events WHERE resource_type = 'webhook' AND resource_id = ?",
      [created.id],
    );
    expect(audit.map((a) => a.action)).toContain('webhook.create');
    expect(JSON.stringify(audit)).not.toContain(created.secret);
    await sut.http.delete(`${API}/webhooks/${created.id}`).set(admin).expect(204);
  });

  it('should deliver a signed rotation.succeeded event to a subscription of rotation.*, and not to one of credential.*', async () => {
    const rotations = await subscribe('/rotations', ['rotation.succeeded']);
    const expiring = await subscribe('/expiring', ['credential.*']);

    const credentialId = await rotateGenerated('acme/hooks/rotated');
    const [request] = await dispatchUntil(() => {
      const received = receiver.to('/rotations');
      return received.length > 0 ? received : undefined;
    });

    const body = bodyOf(request);
    expect(body).toMatchObject({
      subscriptionId: rotations.id,
      event: {
        type: 'rotation.succeeded',
        resourceId: credentialId,
        path: 'acme/hooks/rotated',
        data: expect.objectContaining({ version: 2, previousVersion: 1 }),
      },
    });
    expect(request.headers['x-custos-delivery']).toBe(body.deliveryId);
    expect(request.headers['x-custos-event']).toBe('rotation.succeeded');
    expect(
      verifySignature(
        String(request.headers['x-custos-signature']),
        rotations.secret!,
        request.body,
      ),
    ).toBe(true);
    expect(
      verifySignature(
        String(request.headers['x-custos-signature']),
        expiring.secret!,
        request.body,
      ),
    ).toBe(false);
    expect(receiver.to('/expiring')).toEqual([]);
    expect(await deliveries(rotations.id, 'succeeded')).toEqual([
      expect.objectContaining({
        id: body.deliveryId,
        eventType: 'rotation.succeeded',
        attempts: 1,
      }),
    ]);
    expect(JSON.stringify(request.body)).not.toMatch(/"password"/);
    await sut.http.patch(`${API}/webhooks/${rotations.id}`).set(admin).send({ active: false });
    await sut.http.patch(`${API}/webhooks/${expiring.id}`).set(admin).send({ active: false });
  });

  it('should retry a failing receiver with backoff, dead-letter it after WEBHOOKS_MAX_ATTEMPTS, and redeliver it on request', async () => {
    receiver.responder = (r) => (r.path === '/failing' ? { status: 503 } : { status: 204 });
    const failing = await subscribe('/failing', ['rotation.succeeded']);
    await rotateGenerated('acme/hooks/failing');

    const [dead] = await dispatchUntil(async () => {
      const found = await deliveries(failing.id, 'dead');
      return found.length > 0 ? found : undefined;
    });

    expect(dead).toMatchObject({ attempts: 3, lastStatusCode: 503, lastError: 'HTTP 503' });
    const attempts = receiver.to('/failing');
    expect(attempts).toHaveLength(3);
    expect(new Set(attempts.map((a) => a.headers['x-custos-delivery']))).toEqual(
      new Set([dead.id]),
    );
    expect(attempts[1].at - attempts[0].at).toBeGreaterThanOrEqual(700);

    receiver.responder = () => ({ status: 200 });
    const again = await sut.http
      .post(`${API}/webhooks/${failing.id}/deliveries/${dead.id}/redeliver`)
      .set(admin)
      .send({})
      .expect(202);
    expect(again.body).toMatchObject({ status: 'pending', attempts: 0, redeliveryOf: dead.id });
    const conflict = await sut.http
      .post(`${API}/webhooks/${failing.id}/deliveries/${(again.body as Delivery).id}/redeliver`)
      .set(admin)
      .send({});
    expect(conflict.status).toBe(409);

    await dispatchUntil(async () => {
      const found = await deliveries(failing.id, 'succeeded');
      return found.length > 0 ? found : undefined;
    });
    const redelivered = receiver.to('/failing').at(-1)!;
    expect(redelivered.headers['x-custos-delivery']).toBe((again.body as Delivery).id);
    expect(bodyOf(redelivered).event).toEqual(bodyOf(attempts[0]).event);
    expect(await deliveries(failing.id, 'dead')).toEqual([
      expect.objectContaining({ id: dead.id }),
    ]);
    await sut.http.patch(`${API}/webhooks/${failing.id}`).set(admin).send({ active: false });
  });

  it('should keep answering requests while a slow receiver holds a delivery', async () => {
    receiver.responder = (r) =>
      r.path === '/slow' ? { status: 204, delayMs: 1500 } : { status: 204 };
    const slow = await subscribe('/slow', ['rotation.succeeded']);
    await rotateGenerated('acme/hooks/slow');

    await until(async () => {
      await dispatcher().tick();
      return receiver.to('/slow').length > 0 ? true : undefined;
    });
    const started = Date.now();
    await sut.http.get(`${API}/webhooks`).set(admin).expect(200);
    expect(Date.now() - started).toBeLessThan(1000);

    await dispatchUntil(async () => {
      const found = await deliveries(slow.id, 'succeeded');
      return found.length > 0 ? found : undefined;
    });
    await sut.http.patch(`${API}/webhooks/${slow.id}`).set(admin).send({ active: false });
  });

  it('should dead-letter at once a delivery whose host name resolves to a forbidden address', async () => {
    const internal = await sut.http
      .post(`${API}/webhooks`)
      .set(admin)
      .send({ url: 'https://intranet.test/hook', events: ['rotation.succeeded'] })
      .expect(201);
    const id = (internal.body as Subscription).id;
    await rotateGenerated('acme/hooks/intranet');

    const [dead] = await dispatchUntil(async () => {
      const found = await deliveries(id, 'dead');
      return found.length > 0 ? found : undefined;
    });

    expect(dead).toMatchObject({ attempts: 1, lastStatusCode: null });
    expect(dead.lastError).toBe(
      'Outbound call refused: intranet.test resolves to 10.1.2.3 is a private address',
    );
    await sut.http.delete(`${API}/webhooks/${id}`).set(admin).expect(204);
    expect(
      await db.query('SELECT id FROM webhook_deliveries WHERE subscription_id = ?', [id]),
    ).toEqual([]);
  });

  it.each([
    ['a private address', 'https://10.0.0.1/hook', /private address/],
    ['the metadata service', 'https://169.254.169.254/latest/meta-data/', /link-local address/],
    ['a file URL', 'file:///etc/passwd', /url/],
  ])('should refuse %s with 400 at creation', async (_case, url, message) => {
    const response = await sut.http
      .post(`${API}/webhooks`)
      .set(admin)
      .send({ url, events: ['rotation.*'] })
      .expect(400);
    expect(JSON.stringify(response.body)).toMatch(message);
  });

  describe('on an instance where loopback is not allowed', () => {
    let strictDatabase: ScratchDatabase;
    let strict: TestApp;
    let strictAdmin: Headers;

    beforeAll(async () => {
      strictDatabase = await scratchMariadb();
      strict = await startApp(strictDatabase, {
        env: {
          THROTTLE_LIMIT: '100000',
          CUSTOS_OUTBOUND_CA_FILE: receiver.caFile,
          WEBHOOKS_DISPATCHER_ENABLED: 'false',
          EVENTS_SEQUENCE_INTERVAL_MS: '50',
        },
      });
      Reflect.set(strict.app.get(OutboundGuard), 'resolver', testResolver());
      strictAdmin = { authorization: await bearerFor(strict, 'admin') };
    });

    afterAll(async () => {
      await strict?.close();
      await strictDatabase?.drop();
    });

    it.each(['127.0.0.1', '[::1]', 'localhost', '0x7f000001', '2130706433'])(
      'should refuse a webhook URL at %s with 400',
      async (host) => {
        const response = await strict.http
          .post(`${API}/webhooks`)
          .set(strictAdmin)
          .send({ url: `https://${host}:${receiver.port}/hook`, events: ['rotation.*'] })
          .expect(400);
        expect(response.body).toMatchObject({
          fields: [{ field: 'url', errors: [expect.stringMatching(/loopback/)] }],
        });
      },
    );

    it('should refuse at delivery a name that resolves to loopback, sending nothing', async () => {
      const created = await strict.http
        .post(`${API}/webhooks`)
        .set(strictAdmin)
        .send({ url: receiver.url('/strict', 'hooks.test'), events: ['rotation.succeeded'] })
        .expect(201);
      const id = (created.body as Subscription).id;
      const credential = await createCredential(strict, strictAdmin, { path: 'strict/rotated' });
      const rotation = await strict.http
        .post(`${API}/credentials/${credential.id}/rotate`)
        .set(strictAdmin)
        .send({})
        .expect(202);
      // Without a policy the run is manual: once it waits for a value, a person's write
      // finishes it (before that, the write is refused as a rotation in flight).
      const runId = (rotation.body as { runId: string }).runId;
      await until(async () => {
        const run = await strict.http.get(`${API}/rotations/${runId}`).set(strictAdmin).expect(200);
        return (run.body as { status: string }).status === 'waiting' ? true : undefined;
      });
      await strict.http
        .put(`${API}/credentials/${credential.id}/secret`)
        .set(strictAdmin)
        .send({ secret: { password: 'written-by-a-person-0123' } })
        .expect(200);

      const dead = await until(async () => {
        await strict.app.get(WebhookDispatcher).drain();
        const response = await strict.http
          .get(`${API}/webhooks/${id}/deliveries?status=dead`)
          .set(strictAdmin)
          .expect(200);
        return (response.body as { items: Delivery[] }).items[0];
      });

      expect(dead.lastError).toBe(
        'Outbound call refused: hooks.test resolves to 127.0.0.1 is a loopback address',
      );
      expect(receiver.to('/strict')).toEqual([]);
    });
  });
});
