import { DataSource } from 'typeorm';
import { OutboxRelay } from '../src/audit/outbox/outbox-relay';
import { ScratchDatabase } from '../src/database/cli/scratch-database';
import { AuditProbeAppModule, PROBE_SECRET } from './helpers/audit-probe';
import { EventRow, eventsOfRequest, openDirect } from './helpers/audit-db';
import { createCredential } from './helpers/credential-fixtures';
import { serviceWithGrants } from './helpers/principals';
import { bearerFor, scratchMariadb, startApp, TestApp } from './helpers/test-app';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

describe('Audit capture (MariaDB)', () => {
  let database: ScratchDatabase;
  let db: DataSource;
  let sut: TestApp;
  let sinkDir: string;
  let counter = 0;
  const rid = (name: string) => `${name}-${++counter}`;

  beforeAll(async () => {
    database = await scratchMariadb();
    sinkDir = mkdtempSync(join(tmpdir(), 'custos-sink-'));
    sut = await startApp(database, {
      rootModule: AuditProbeAppModule,
      env: {
        AUDIT_SINKS: 'file',
        AUDIT_FILE_PATH: join(sinkDir, 'audit.ndjson'),
        AUDIT_RELAY_INTERVAL_MS: '60000',
        THROTTLE_LIMIT: '100000',
        LOGIN_THROTTLE_LIMIT: '100000',
      },
    });
    db = await openDirect(database);
    await db.query('CREATE TABLE probe_items (name varchar(64) PRIMARY KEY) ENGINE=InnoDB');
  });

  afterAll(async () => {
    await sut?.close();
    await db?.destroy();
    await database?.drop();
    rmSync(sinkDir, { recursive: true, force: true });
  });

  describe('one event per request', () => {
    it('should record a successful request once, with who, where and what', async () => {
      const id = rid('ok');
      await sut.http
        .get('/api/v1/probe/secret')
        .set('x-request-id', id)
        .set('user-agent', 'probe/1.0')
        .expect(200);
      const events = await eventsOfRequest(db, id);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        action: 'probe.secret.reveal',
        outcome: 'success',
        http_status: 200,
        actor_type: 'anonymous',
        user_agent: 'probe/1.0',
        ip: expect.stringMatching(/127\.0\.0\.1/),
      });
    });

    it('should record a request refused by a guard once, as denied', async () => {
      const id = rid('denied');
      await sut.http.get('/api/v1/probe/forbidden').set('x-request-id', id).expect(403);
      await sut.app.get(OutboxRelay).tick(); // lets the after-response record settle too
      const events = await waitForEvents(db, id);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        action: 'probe.forbidden.read',
        outcome: 'denied',
        http_status: 403,
      });
    });

    it('should record a validation failure once, naming the fields but not their values', async () => {
      const id = rid('invalid');
      await sut.http
        .post('/api/v1/probe/items')
        .set('x-request-id', id)
        .send({ name: 'x', role: 'admin-value' })
        .expect(400);
      const events = await eventsOfRequest(db, id);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        action: 'probe.item.create',
        outcome: 'invalid',
        http_status: 400,
      });
      expect(JSON.parse(events[0].details)).toMatchObject({ fields: ['role'] });
      expect(events[0].details).not.toContain('admin-value');
    });

    it('should record an unknown route once', async () => {
      const id = rid('404');
      await sut.http.get('/api/v1/nowhere/42').set('x-request-id', id).expect(404);
      const events = await waitForEvents(db, id);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        action: 'http.unmatched',
        outcome: 'invalid',
        http_status: 404,
      });
      expect(JSON.parse(events[0].details)).toMatchObject({ path: '/api/v1/nowhere/42' });
    });

    it('should record a body the parser refused once', async () => {
      const id = rid('badjson');
      await sut.http
        .post('/api/v1/probe/items')
        .set('x-request-id', id)
        .set('content-type', 'application/json')
        .send('{"name":')
        .expect(400);
      expect(await waitForEvents(db, id)).toHaveLength(1);
    });

    it('should record a mutation audited by its service once, not twice', async () => {
      const id = rid('create');
      await sut.http
        .post('/api/v1/probe/items')
        .set('x-request-id', id)
        .send({ name: 'item-1' })
        .expect(201);
      const events = await eventsOfRequest(db, id);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        action: 'probe.item.create',
        resource_type: 'probe_item',
        resource_id: 'item-1',
      });
    });

    it('should record the failure when the transaction holding the event fails to commit', async () => {
      const id = rid('commit-fails');
      await sut.http
        .post('/api/v1/probe/items/commit-fails')
        .set('x-request-id', id)
        .send({ name: 'never-committed' })
        .expect(500);
      const events = await waitForEvents(db, id);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        action: 'probe.item.create',
        outcome: 'error',
        http_status: 500,
      });
      expect(
        await db.query("SELECT * FROM probe_items WHERE name = 'never-committed'"),
      ).toHaveLength(0);
    });

    it('should leave health probes out', async () => {
      const id = rid('probe');
      await sut.http.get('/api/v1/health/live').set('x-request-id', id).expect(200);
      await sut.http.get('/api/v1/health/ready').set('x-request-id', id).expect(200);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await eventsOfRequest(db, id)).toHaveLength(0);
    });
  });

  describe('reads by path', () => {
    let reader: { id: string; headers: Record<string, string> };
    let looker: { id: string; headers: Record<string, string> };
    let hiddenId: string;
    let visibleId: string;

    beforeAll(async () => {
      const admin = { authorization: await bearerFor(sut, 'admin') };
      hiddenId = (await createCredential(sut, admin, { path: 'capture/hidden/db' })).id;
      visibleId = (await createCredential(sut, admin, { path: 'capture/open/db' })).id;
      reader = await serviceWithGrants(sut, admin.authorization, [
        { pathPattern: 'capture/open/*', capabilities: ['read', 'reveal'] },
      ]);
      looker = await serviceWithGrants(sut, admin.authorization, [
        { pathPattern: 'capture/open/*', capabilities: ['read'] },
      ]);
    });

    const read = (path: string, headers: Record<string, string>, id: string) =>
      sut.http.get(`/api/v1/secrets/${path}`).set(headers).set('x-request-id', id);
    const details = (event: EventRow) => JSON.parse(event.details) as Record<string, unknown>;

    it('should record a read refused for lack of access as denied, on the path, with the same 404 as a missing one', async () => {
      const [refusedId, missingId] = [rid('path-denied'), rid('path-missing')];
      const refused = await read('capture/hidden/db', reader.headers, refusedId).expect(404);
      const missing = await read('capture/hidden/none', reader.headers, missingId).expect(404);
      const withoutId = (body: Record<string, unknown>) => ({ ...body, requestId: undefined });
      expect(withoutId(refused.body)).toEqual(withoutId(missing.body));

      const [denied] = await eventsOfRequest(db, refusedId);
      expect(denied).toMatchObject({
        action: 'secret.read',
        outcome: 'denied',
        http_status: 404,
        actor_type: 'service',
        actor_id: reader.id,
        resource_type: 'credential_path',
        resource_id: 'capture/hidden/db',
      });
      expect(details(denied)).toMatchObject({ path: 'capture/hidden/db' });
      expect(denied.details).not.toContain(hiddenId);

      const [notFound] = await eventsOfRequest(db, missingId);
      expect(notFound).toMatchObject({
        outcome: 'invalid',
        http_status: 404,
        actor_id: reader.id,
        resource_type: 'credential_path',
        resource_id: 'capture/hidden/none',
      });
    });

    it('should name the credential when the caller may read it but not reveal it', async () => {
      const id = rid('path-forbidden');
      await read('capture/open/db', looker.headers, id).expect(403);
      const events = await eventsOfRequest(db, id);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        action: 'secret.read',
        outcome: 'denied',
        http_status: 403,
        actor_id: looker.id,
        resource_type: 'credential_path',
        resource_id: 'capture/open/db',
      });
      expect(details(events[0])).toMatchObject({
        path: 'capture/open/db',
        credentialId: visibleId,
      });
    });

    it('should name the credential and version when a reader asks for a version that cannot be revealed', async () => {
      const admin = { authorization: await bearerFor(sut, 'admin') };
      const id = rid('reveal-no-version');
      await sut.http
        .post(`/api/v1/credentials/${visibleId}/reveal`)
        .set(admin)
        .set('x-request-id', id)
        .send({ version: 99 })
        .expect(404);
      const events = await eventsOfRequest(db, id);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ outcome: 'invalid', http_status: 404 });
      expect(details(events[0])).toMatchObject({ credentialId: visibleId, version: 99 });
    });

    it('should record the path a caller with an invalid key asked for, as anonymous', async () => {
      const id = rid('path-badkey');
      await read('capture/hidden/db', { 'x-api-key': 'cus_nope_0123456789abcdef0123' }, id).expect(
        401,
      );
      const events = await waitForEvents(db, id);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        action: 'secret.read',
        outcome: 'denied',
        actor_type: 'anonymous',
        resource_type: 'credential_path',
        resource_id: 'capture/hidden/db',
      });
    });

    it('should record a successful read once, against the credential', async () => {
      const id = rid('path-ok');
      await read('capture/open/db', reader.headers, id).expect(200);
      const events = await eventsOfRequest(db, id);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        action: 'credential.reveal',
        outcome: 'success',
        actor_id: reader.id,
        resource_type: 'credential',
        resource_id: visibleId,
      });
    });
  });

  describe('callers of requests refused before authentication', () => {
    let user: { authorization: string };
    let userId: string;
    let service: { id: string; headers: Record<string, string> };

    beforeAll(async () => {
      user = { authorization: await bearerFor(sut, 'operator') };
      userId = (await sut.http.get('/api/v1/auth/me').set(user).expect(200)).body.id;
      service = await serviceWithGrants(sut, await bearerFor(sut, 'admin'), []);
    });

    const actorOf = async (requestId: string) => {
      const events = await waitForEvents(db, requestId);
      expect(events).toHaveLength(1);
      return { type: events[0].actor_type, id: events[0].actor_id };
    };

    it('should keep the user behind a valid token on a body that is not JSON', async () => {
      const id = rid('badjson-user');
      await sut.http
        .post('/api/v1/credentials')
        .set(user)
        .set('x-request-id', id)
        .set('content-type', 'application/json')
        .send('{"path":')
        .expect(400);
      expect(await actorOf(id)).toEqual({ type: 'user', id: userId });
    });

    it('should keep the service behind a valid API key on a body that is too large', async () => {
      const id = rid('413-service');
      await sut.http
        .post('/api/v1/credentials')
        .set(service.headers)
        .set('x-request-id', id)
        .set('content-type', 'application/json')
        .send(JSON.stringify({ name: 'x'.repeat(1_100_000) }))
        .expect(413);
      expect(await actorOf(id)).toEqual({ type: 'service', id: service.id });
    });

    it('should keep the caller of an unknown route', async () => {
      const id = rid('404-user');
      await sut.http.get('/api/v1/nowhere/at-all').set(user).set('x-request-id', id).expect(404);
      expect(await actorOf(id)).toEqual({ type: 'user', id: userId });
    });

    it('should answer a malformed URL with its request id, and record it with its caller', async () => {
      const id = rid('bad-url');
      const response = await sut.http
        .get('/api/v1/secrets/%zz')
        .set(service.headers)
        .set('x-request-id', id)
        .expect(400);
      expect(response.headers['x-request-id']).toBe(id);
      expect(response.body).toMatchObject({ statusCode: 400, error: 'Bad Request', requestId: id });
      expect(response.body).not.toHaveProperty('code');
      const events = await waitForEvents(db, id);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        action: 'http.unmatched',
        outcome: 'invalid',
        http_status: 400,
        actor_type: 'service',
        actor_id: service.id,
      });
      expect(JSON.parse(events[0].details)).toMatchObject({ path: '/api/v1/secrets/%zz' });
    });

    it('should give a malformed URL a request id of its own when the caller sends none', async () => {
      const response = await sut.http.get('/api/v1/credentials/%E0%A4%A').expect(400);
      expect(response.body.requestId).toMatch(/^[0-9a-f-]{36}$/);
      expect(response.headers['x-request-id']).toBe(response.body.requestId);
      expect(await waitForEvents(db, response.body.requestId)).toHaveLength(1);
    });

    it("should send the security headers with a malformed URL's answer too", async () => {
      const response = await sut.http.get('/api/v1/secrets/%zz').expect(400);
      expect(response.headers['content-security-policy']).toContain("default-src 'self'");
      expect(response.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(response.headers['x-content-type-options']).toBe('nosniff');
    });

    it('should leave a caller with an invalid token anonymous', async () => {
      const [jwtId, keyId] = [rid('404-badjwt'), rid('404-badkey')];
      const forged = `${user.authorization.slice(0, -4)}AAAA`;
      await sut.http
        .get('/api/v1/nowhere')
        .set('authorization', forged)
        .set('x-request-id', jwtId)
        .expect(404);
      await sut.http
        .get('/api/v1/nowhere')
        .set('x-api-key', `${service.headers['x-api-key'].slice(0, -4)}AAAA`)
        .set('x-request-id', keyId)
        .expect(404);
      expect(await actorOf(jwtId)).toEqual({ type: 'anonymous', id: null });
      expect(await actorOf(keyId)).toEqual({ type: 'anonymous', id: null });
    });
  });

  describe('concurrent clients', () => {
    it('should record every request exactly once, with the principal that sent it', async () => {
      const admin = await bearerFor(sut, 'admin');
      await createCredential(sut, { authorization: admin }, { path: 'capture/busy/db' });
      const people = await Promise.all(
        (['operator', 'viewer'] as const).map(async (role) => {
          const headers = { authorization: await bearerFor(sut, role) };
          const me = await sut.http.get('/api/v1/auth/me').set(headers).expect(200);
          return { id: (me.body as { id: string }).id, type: 'user', headers };
        }),
      );
      const services = await Promise.all(
        [0, 1].map(async () => ({
          ...(await serviceWithGrants(sut, admin, [
            { pathPattern: 'capture/busy/*', capabilities: ['read', 'reveal'] },
          ])),
          type: 'service',
        })),
      );
      const kinds = [
        // reaches a handler, recorded by a service inside its transaction or by the interceptor
        (agent: typeof sut.http) => agent.get('/api/v1/credentials'),
        (agent: typeof sut.http) => agent.get('/api/v1/secrets/capture/busy/db'),
        (agent: typeof sut.http) => agent.get('/api/v1/secrets/capture/busy/missing'),
        (agent: typeof sut.http) => agent.post('/api/v1/credentials').send({ path: 'x' }),
        // refused before the guard, recorded after the response
        (agent: typeof sut.http) => agent.get('/api/v1/no/such/route'),
        (agent: typeof sut.http) =>
          agent.post('/api/v1/credentials').set('content-type', 'application/json').send('{'),
        (agent: typeof sut.http) => agent.get('/api/v1/secrets/%zz'),
      ];
      const requests = [...people, ...services].flatMap((caller) =>
        kinds.flatMap((kind, k) =>
          [0, 1].map((round) => ({ caller, id: rid(`busy-${caller.id}-${k}-${round}`), kind })),
        ),
      );

      const statuses = await Promise.all(
        requests.map(async ({ caller, id, kind }) => {
          const response = await kind(sut.http).set(caller.headers).set('x-request-id', id);
          return response.status;
        }),
      );

      expect(statuses.filter((status) => status >= 500)).toEqual([]);
      for (const { caller, id } of requests) {
        const events = await waitForEvents(db, id);
        expect({ id, count: events.length }).toEqual({ id, count: 1 });
        expect({ id, actor: events[0].actor_type, actorId: events[0].actor_id }).toEqual({
          id,
          actor: caller.type,
          actorId: caller.id,
        });
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
      const ids = requests.map((r) => r.id);
      const [{ n }] = await db.query<{ n: string }[]>(
        `SELECT COUNT(*) AS n FROM audit_events WHERE request_id IN (${ids.map(() => '?').join(',')})`,
        ids,
      );
      expect(Number(n)).toBe(requests.length);
    });
  });

  describe('fail closed', () => {
    const blockAuditWrites = () =>
      db.query(
        "CREATE TRIGGER audit_events_test_block BEFORE INSERT ON audit_events FOR EACH ROW SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'audit storage unavailable'",
      );
    const unblock = () => db.query('DROP TRIGGER IF EXISTS audit_events_test_block');

    afterEach(unblock);

    it('should roll the mutation back when its audit event cannot be written', async () => {
      await blockAuditWrites();
      const response = await sut.http
        .post('/api/v1/probe/items')
        .send({ name: 'never-stored' })
        .expect(500);
      expect(response.body.message).toBe('Internal server error');
      expect(response.text).not.toMatch(/audit storage|SQL|SIGNAL/);
      expect(await db.query("SELECT * FROM probe_items WHERE name = 'never-stored'")).toHaveLength(
        0,
      );
      await unblock();
      await sut.http.post('/api/v1/probe/items').send({ name: 'stored' }).expect(201);
      expect(await db.query("SELECT * FROM probe_items WHERE name = 'stored'")).toHaveLength(1);
    });

    it('should not return data whose read cannot be audited', async () => {
      await blockAuditWrites();
      const response = await sut.http.get('/api/v1/probe/secret').expect(500);
      expect(response.text).not.toContain(PROBE_SECRET);
    });
  });

  describe('secrets never stored', () => {
    it('should keep passwords, tokens and keys out of every event and outbox row', async () => {
      const canary = 'S3cr3t-canary-value-91b2';
      await sut.http
        .post('/api/v1/probe/items')
        .set('authorization', `Bearer ${canary}`)
        .set('x-api-key', `cus_abc_${canary}`)
        .send({ name: 'with-password', password: canary })
        .expect(201);
      await sut.http
        .post('/api/v1/probe/items')
        .send({ name: 'x', password: canary, token: canary })
        .expect(400);
      await sut.http.get(`/api/v1/nowhere?token=${canary}`).expect(404);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const everything = JSON.stringify([
        await db.query('SELECT * FROM audit_events'),
        await db.query('SELECT * FROM outbox'),
      ]);
      expect(everything).not.toContain(canary);
    });
  });

  describe('sinks', () => {
    it('should deliver committed events to the file sink in order and empty the outbox', async () => {
      await sut.http.get('/api/v1/probe/secret').expect(200);
      await sut.app.get(OutboxRelay).tick();
      const lines = readFileSync(join(sinkDir, 'audit.ndjson'), 'utf8').trim().split('\n');
      const events = lines.map(
        (line) => JSON.parse(line) as { type: string; seq: string; chain: { hash: string } },
      );
      expect(events.length).toBeGreaterThan(5);
      expect(
        events.every((e) => e.type === 'audit.event' && /^[0-9a-f]{64}$/.test(e.chain.hash)),
      ).toBe(true);
      const stored = await db.query<{ n: string }[]>('SELECT COUNT(*) AS n FROM audit_events');
      expect(new Set(events.map((e) => e.seq)).size).toBe(Number(stored[0].n));
      expect(await db.query('SELECT * FROM outbox')).toHaveLength(0);
    });
  });
});

/** Events recorded after the response (refused requests) land a moment after it. */
async function waitForEvents(db: DataSource, requestId: string) {
  for (let i = 0; i < 50; i++) {
    const events = await eventsOfRequest(db, requestId);
    if (events.length > 0) return events;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return eventsOfRequest(db, requestId);
}

describe('Audit with a failing sink (MariaDB)', () => {
  let database: ScratchDatabase;
  let sut: TestApp;

  beforeAll(async () => {
    database = await scratchMariadb();
    sut = await startApp(database, {
      env: {
        AUDIT_SINKS: 'file',
        // A path below a regular file can never be created: the sink fails on every attempt.
        AUDIT_FILE_PATH: join(__filename, 'audit.ndjson'),
        AUDIT_RELAY_INTERVAL_MS: '60000',
        AUDIT_OUTBOX_BACKLOG_WARN: '1',
      },
    });
  });

  afterAll(async () => {
    await sut?.close();
    await database?.drop();
  });

  it('should keep serving, keep the events and show the backlog', async () => {
    for (let i = 0; i < 3; i++) await sut.http.get(`/api/v1/nothing/${i}`).expect(404);
    await sut.app.get(OutboxRelay).tick();
    await sut.http
      .get('/api/v1/audit/events')
      .set('authorization', await bearerFor(sut, 'auditor'))
      .expect(200);
    const ready = await sut.http.get('/api/v1/health/ready').expect(200);
    expect(ready.body.details.auditSinks.status).toBe('degraded');
    expect(ready.body.details.auditSinks.backlog.file).toBeGreaterThanOrEqual(3);
    const metrics = await sut.http.get('/metrics').expect(200);
    expect(metrics.text).toMatch(/custos_audit_outbox_backlog\{sink="file"\} [1-9]/);
    expect(metrics.text).toMatch(/custos_audit_sink_failures_total\{sink="file"\} [1-9]/);
  });
});
