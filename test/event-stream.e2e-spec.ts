import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { createScratchSqlite, ScratchDatabase } from '../src/database/cli/scratch-database';
import { createCredential, Headers } from './helpers/credential-fixtures';
import { serviceWithGrants } from './helpers/principals';
import { until } from './helpers/rotation-checks';
import { SseClient } from './helpers/sse-client';
import {
  bearerFor,
  listening,
  Listening,
  randomMasterKey,
  scratchMariadb,
  startApp,
  TestApp,
} from './helpers/test-app';

const API = '/api/v1';
const ENV = {
  JWT_SECRET: randomBytes(48).toString('base64'),
  THROTTLE_LIMIT: '100000',
  AUDIT_SINKS: 'none',
  // Only the rotations the tests ask for.
  ROTATION_TICK: 'PT1H',
  EVENTS_SEQUENCE_INTERVAL_MS: '50',
  EVENTS_STREAM_POLL_MS: '50',
  EVENTS_STREAM_HEARTBEAT: 'PT1S',
};

/** A credential with a generated policy, so that POST …/rotate runs at once. */
async function rotatable(sut: TestApp, admin: Headers, path: string): Promise<string> {
  const { id } = await createCredential(sut, admin, { path });
  await sut.http
    .put(`${API}/credentials/${id}/rotation`)
    .set(admin)
    .send({ enabled: true, interval: 'P30D', gracePeriod: 'PT1H', rotator: { kind: 'generated' } })
    .expect(200);
  return id;
}

/** Rotates and waits for the run to succeed. */
async function rotate(sut: TestApp, admin: Headers, id: string): Promise<void> {
  const accepted = await sut.http
    .post(`${API}/credentials/${id}/rotate`)
    .set(admin)
    .send({ reason: 'stream test' })
    .expect(202);
  const runId = (accepted.body as { runId: string }).runId;
  await until(
    async () => {
      const run = await sut.http.get(`${API}/rotations/${runId}`).set(admin).expect(200);
      return (run.body as { status: string }).status === 'succeeded' ? true : undefined;
    },
    20_000,
    `run ${runId} succeeded`,
  );
}

describe('Event stream over two instances (MariaDB)', () => {
  let database: ScratchDatabase;
  let a: Listening;
  let b: Listening;
  let db: DataSource;
  let admin: Headers;
  let acme: string;
  let beta: string;
  let gamma: string;
  let svcAcme: { id: string; headers: Record<string, string> };
  let svcBeta: { id: string; headers: Record<string, string> };
  const clients: SseClient[] = [];

  const connect = async (on: Listening, headers: Record<string, string>, query = '') => {
    const client = await SseClient.connect(`${on.url}${API}/events${query}`, headers);
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    database = await scratchMariadb();
    const env = { ...ENV, CUSTOS_MASTER_KEY: randomMasterKey() };
    // One after the other: the first migrates the database and creates the bootstrap admin.
    a = await listening(await startApp(database, { env }));
    b = await listening(await startApp(database, { env }));
    db = a.sut.app.get(DataSource);
    admin = { authorization: await bearerFor(a.sut, 'admin') };
    acme = await rotatable(a.sut, admin, 'acme/prod/db');
    beta = await rotatable(a.sut, admin, 'beta/prod/db');
    gamma = await rotatable(a.sut, admin, 'gamma/db');
    svcAcme = await serviceWithGrants(a.sut, admin.authorization, [
      { pathPattern: 'acme/prod/*', capabilities: ['read', 'reveal'] },
    ]);
    svcBeta = await serviceWithGrants(a.sut, admin.authorization, [
      { pathPattern: 'beta/**', capabilities: ['read', 'reveal'] },
    ]);
  }, 60_000);

  afterAll(async () => {
    for (const client of clients) client.close();
    await a?.sut.close();
    await b?.sut.close();
    await database?.drop();
  });

  it('should deliver a rotation to the service whose grant covers the credential, and not to the other', async () => {
    const toAcme = await connect(a, svcAcme.headers);
    const toBeta = await connect(b, svcBeta.headers);
    expect(toAcme.status).toBe(200);
    expect(toAcme.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    await toAcme.waitFor((m) => m.event === 'ready');
    await toBeta.waitFor((m) => m.event === 'ready');

    // Raised on the other instance: each instance serves its listeners from the database.
    await rotate(b.sut, admin, acme);
    const heard = await toAcme.waitForEvent('rotation.succeeded', acme);
    await rotate(a.sut, admin, beta);
    await toBeta.waitForEvent('rotation.succeeded', beta);

    const payload = JSON.parse(heard.data) as Record<string, unknown>;
    expect(payload).toMatchObject({
      streamSeq: heard.id,
      type: 'rotation.succeeded',
      resourceType: 'credential',
      resourceId: acme,
      path: 'acme/prod/db',
      data: expect.objectContaining({ credentialId: acme, version: 2, previousVersion: 1 }),
    });
    expect(toAcme.payloads.map((p) => p.resourceId)).not.toContain(beta);
    // The beta service heard of a later event, so it would have heard of acme's by now.
    expect(toBeta.payloads.map((p) => p.resourceId)).not.toContain(acme);
    expect(toBeta.payloads.filter((p) => p.resourceId === beta).map((p) => p.type)).toEqual([
      'rotation.started',
      'rotation.succeeded',
    ]);
    // Never a secret: the new value the service can reveal is nowhere in either stream.
    const revealed = await a.sut.http
      .get(`${API}/secrets/acme/prod/db`)
      .set(svcAcme.headers)
      .expect(200);
    const password = (revealed.body as { secret: { password: string } }).secret.password;
    expect(toAcme.text).not.toContain(password);
    expect(toBeta.text).not.toContain(password);
  });

  it('should resume from Last-Event-ID on another instance without gaps or repeats', async () => {
    const first = await connect(a, svcAcme.headers);
    await first.waitFor((m) => m.event === 'ready');
    await rotate(a.sut, admin, acme);
    await first.waitForEvent('rotation.succeeded', acme);
    first.close();
    await first.ended;
    const lastId = first.messages[first.messages.length - 1].id!;

    // Missed while away: two rotations it may hear of, one it may not.
    await rotate(b.sut, admin, acme);
    await rotate(a.sut, admin, beta);
    await rotate(b.sut, admin, acme);
    const expected = await until(
      async () => {
        const rows = await db.query<{ stream_seq: string }[]>(
          "SELECT stream_seq FROM event_outbox WHERE stream_seq > ? AND path LIKE 'acme/prod/%' " +
            'ORDER BY stream_seq',
          [lastId],
        );
        return rows.length >= 4 ? rows.map((row) => String(row.stream_seq)) : undefined;
      },
      10_000,
      'the missed events numbered',
    );

    const resumed = await connect(b, { ...svcAcme.headers, 'last-event-id': lastId });
    await resumed.waitFor((m) => m.id === expected[expected.length - 1]);
    expect(resumed.messages[0]).toEqual({
      id: lastId,
      event: 'ready',
      data: JSON.stringify({ streamSeq: lastId }),
    });
    expect(resumed.events.map((m) => m.id)).toEqual(expected);
    expect(resumed.payloads.every((p) => p.resourceId === acme)).toBe(true);
    expect(resumed.payloads.map((p) => p.type)).toEqual([
      'rotation.started',
      'rotation.succeeded',
      'rotation.started',
      'rotation.succeeded',
    ]);

    // The same from the query string, for clients that cannot set the header; types filter.
    const byQuery = await connect(
      a,
      svcAcme.headers,
      `?lastEventId=${lastId}&types=rotation.succeeded`,
    );
    await byQuery.waitFor((m) => m.id === expected[expected.length - 1]);
    expect(byQuery.events.map((m) => m.id)).toEqual([expected[1], expected[3]]);
    resumed.close();
    byQuery.close();
  });

  it('should stop delivering once the grant is revoked, in the same connection', async () => {
    const svc = await serviceWithGrants(a.sut, admin.authorization, [
      { pathPattern: 'acme/prod/*', capabilities: ['read'] },
      { pathPattern: 'gamma/*', capabilities: ['read'] },
    ]);
    const client = await connect(a, svc.headers);
    await client.waitFor((m) => m.event === 'ready');
    await rotate(a.sut, admin, acme);
    await client.waitForEvent('rotation.succeeded', acme);
    const grants = await a.sut.http.get(`${API}/grants`).set(admin).expect(200);
    const acmeGrant = (
      grants.body as { items: { id: string; principalId: string; pathPattern: string }[] }
    ).items.find((g) => g.principalId === svc.id && g.pathPattern === 'acme/prod/*')!;
    await a.sut.http.delete(`${API}/grants/${acmeGrant.id}`).set(admin).expect(204);

    await rotate(b.sut, admin, acme);
    await rotate(b.sut, admin, gamma);
    await client.waitForEvent('rotation.succeeded', gamma);

    expect(client.payloads.filter((p) => p.resourceId === acme)).toHaveLength(2);
  });

  it('should send heartbeats, and end the stream once its API key is revoked', async () => {
    const svc = await serviceWithGrants(a.sut, admin.authorization, [
      { pathPattern: 'acme/prod/*', capabilities: ['read'] },
    ]);
    const client = await connect(b, svc.headers);
    await client.waitFor((m) => m.event === 'ready');
    await until(
      () => Promise.resolve(client.comments.includes('heartbeat') ? true : undefined),
      5_000,
      'a heartbeat',
    );
    const keys = await a.sut.http.get(`${API}/service-accounts/${svc.id}/keys`).set(admin);
    const keyId = (keys.body as { items: { id: string }[] }).items[0].id;
    await a.sut.http
      .delete(`${API}/service-accounts/${svc.id}/keys/${keyId}`)
      .set(admin)
      .expect(204);

    await client.ended;
    expect(client.comments).toContain('closing: the key or token is no longer valid');
  });

  it('should let every kind of principal listen, each hearing what it may read', async () => {
    const viewer = await connect(a, { authorization: await bearerFor(a.sut, 'viewer') });
    const auditor = await connect(b, { authorization: await bearerFor(b.sut, 'auditor') });
    const nobody = await serviceWithGrants(a.sut, admin.authorization, []);
    const none = await connect(a, nobody.headers);
    for (const client of [viewer, auditor, none]) await client.waitFor((m) => m.event === 'ready');

    await rotate(a.sut, admin, gamma);
    await viewer.waitForEvent('rotation.succeeded', gamma);
    await auditor.waitForEvent('rotation.succeeded', gamma);
    // The grant-less service is past that event too once it hears its heartbeat after it.
    const beats = none.comments.length;
    await until(
      () => Promise.resolve(none.comments.length > beats ? true : undefined),
      5_000,
      'a heartbeat after the event',
    );
    expect(none.events).toEqual([]);
  });

  it('should tell of incidents only those who may read them: never a viewer or a service', async () => {
    const operatorHeaders = { authorization: await bearerFor(a.sut, 'operator') };
    const operator = await connect(a, operatorHeaders);
    const auditor = await connect(b, { authorization: await bearerFor(b.sut, 'auditor') });
    const viewer = await connect(a, { authorization: await bearerFor(a.sut, 'viewer') });
    // Reads every path: still no incident.
    const everywhere = await serviceWithGrants(a.sut, admin.authorization, [
      { pathPattern: '**', capabilities: ['read', 'reveal'] },
    ]);
    const service = await connect(b, everywhere.headers);
    for (const client of [operator, auditor, viewer, service]) {
      await client.waitFor((m) => m.event === 'ready');
    }

    const title = `gamma key in a gist ${Date.now()}`;
    const opened = await a.sut.http
      .post(`${API}/incidents`)
      .set(operatorHeaders)
      .send({ type: 'credential_leak', severity: 'high', title })
      .expect(201);
    const incidentId = (opened.body as { id: string }).id;
    const heard = await auditor.waitForEvent('incident.opened', incidentId);
    await operator.waitForEvent('incident.opened', incidentId);
    expect(JSON.parse(heard.data)).toMatchObject({ resourceType: 'incident', data: { title } });

    // A later event both may hear: once they have it, they are past the incident's.
    await rotate(a.sut, admin, gamma);
    await viewer.waitForEvent('rotation.succeeded', gamma);
    await service.waitForEvent('rotation.succeeded', gamma);
    for (const client of [viewer, service]) {
      expect(client.payloads.filter((p) => p.resourceType === 'incident')).toEqual([]);
      expect(client.text).not.toContain(title);
    }
  });

  it('should record each connection once, before streaming, and refuse bad input', async () => {
    const client = await connect(a, svcBeta.headers);
    await client.waitFor((m) => m.event === 'ready');
    const requestId = client.headers['x-request-id'];
    const rows = await db.query<
      { action: string; outcome: string; http_status: number; actor_id: string }[]
    >('SELECT action, outcome, http_status, actor_id FROM audit_events WHERE request_id = ?', [
      requestId,
    ]);
    expect(rows).toEqual([
      { action: 'events.stream', outcome: 'success', http_status: 200, actor_id: svcBeta.id },
    ]);

    const anonymous = await a.sut.http.get(`${API}/events`).expect(401);
    expect(anonymous.body).toMatchObject({ statusCode: 401 });
    await a.sut.http
      .get(`${API}/events`)
      .set({ ...svcBeta.headers, 'last-event-id': '12abc' })
      .expect(400);
    await a.sut.http.get(`${API}/events?types=rotation.**`).set(svcBeta.headers).expect(400);
    await a.sut.http.get(`${API}/events?lastEventId=-1`).set(svcBeta.headers).expect(400);
    await a.sut.http.get(`${API}/events?since=1`).set(svcBeta.headers).expect(400);
  });
});

describe('Event stream on the embedded SQLite default', () => {
  let database: ScratchDatabase;
  let sqlite: Listening;
  let admin: Headers;

  beforeAll(async () => {
    database = createScratchSqlite();
    sqlite = await listening(await startApp(database, { env: ENV }));
    admin = { authorization: await bearerFor(sqlite.sut, 'admin') };
  });

  let closed = false;

  afterAll(async () => {
    if (!closed) await sqlite?.sut.close();
    await database?.drop();
  });

  it('should deliver a rotation to a service that may read the credential', async () => {
    const id = await rotatable(sqlite.sut, admin, 'acme/prod/db');
    const svc = await serviceWithGrants(sqlite.sut, admin.authorization, [
      { pathPattern: 'acme/**', capabilities: ['read'] },
    ]);
    const client = await SseClient.connect(`${sqlite.url}${API}/events`, svc.headers);
    await client.waitFor((m) => m.event === 'ready');

    await rotate(sqlite.sut, admin, id);

    await client.waitForEvent('rotation.succeeded', id);
    client.close();
  });

  it('should end open streams when the app shuts down, so that shutdown does not wait on them', async () => {
    const client = await SseClient.connect(`${sqlite.url}${API}/events`, admin);
    await client.waitFor((m) => m.event === 'ready');

    closed = true;
    await sqlite.sut.close();

    await client.ended;
    expect(client.comments).toContain('closing: the server is shutting down');
  });
});
