import { DataSource } from 'typeorm';
import { ScratchDatabase } from '../src/database/cli/scratch-database';
import { openDirect } from './helpers/audit-db';
import { serviceWithGrants } from './helpers/principals';
import { bearerFor, scratchMariadb, startApp, TestApp } from './helpers/test-app';

const SECRET = 'reveal-audit-canary-Zq81x';
const CONCURRENT = 40;
const ENV = { THROTTLE_LIMIT: '100000', LOGIN_THROTTLE_LIMIT: '100000' };

/**
 * A reveal reads outside any transaction and records its event through the group commit
 * (DESIGN.md §4.3): under concurrent load each reveal must still have exactly one committed
 * event, no secret may leave when its event cannot be written, and grants and keys revoked on
 * another instance must stop working at once.
 */
describe('Reveal and its audit event under concurrency (MariaDB)', () => {
  let database: ScratchDatabase;
  let db: DataSource;
  let sut: TestApp;
  let admin: string;
  let credentialId: string;
  let service: { id: string; headers: Record<string, string> };
  let counter = 0;

  beforeAll(async () => {
    database = await scratchMariadb();
    sut = await startApp(database, { env: ENV });
    db = await openDirect(database);
    admin = await bearerFor(sut, 'admin');
    const created = await sut.http
      .post('/api/v1/credentials')
      .set('authorization', admin)
      .send({ path: 'acme/prod/db', name: 'db', type: 'password', secret: { password: SECRET } })
      .expect(201);
    credentialId = (created.body as { id: string }).id;
    service = await serviceWithGrants(sut, admin, [
      { pathPattern: 'acme/prod/*', capabilities: ['read', 'reveal'] },
    ]);
  });

  afterAll(async () => {
    await db?.query('DROP TRIGGER IF EXISTS reveal_audit_fails').catch(() => undefined);
    await sut?.close();
    await db?.destroy();
    await database?.drop();
  });

  /** CONCURRENT reveals by path at once, each with a request id of its own. */
  async function revealConcurrently(
    app: TestApp = sut,
  ): Promise<{ id: string; status: number; text: string }[]> {
    const batch = ++counter;
    return Promise.all(
      Array.from({ length: CONCURRENT }, async (_, i) => {
        const id = `reveal-${batch}-${i}`;
        const response = await app.http
          .get('/api/v1/secrets/acme/prod/db')
          .set(service.headers)
          .set('x-request-id', id);
        return { id, status: response.status, text: response.text };
      }),
    );
  }

  function eventsOf(
    ids: string[],
  ): Promise<{ request_id: string; action: string; outcome: string }[]> {
    return db.query(
      `SELECT request_id, action, outcome FROM audit_events WHERE request_id IN (${ids.map(() => '?').join(', ')})`,
      ids,
    );
  }

  it('should commit exactly one credential.reveal event for each of many concurrent reveals', async () => {
    const responses = await revealConcurrently();

    expect(responses.map((r) => r.status)).toEqual(responses.map(() => 200));
    for (const response of responses) expect(response.text).toContain(SECRET);
    const events = await eventsOf(responses.map((r) => r.id));
    // One event per request: the reveal's own, and no second one from the HTTP capture.
    expect(events).toHaveLength(CONCURRENT);
    expect(new Set(events.map((e) => e.request_id)).size).toBe(CONCURRENT);
    for (const event of events) {
      expect(event).toMatchObject({ action: 'credential.reveal', outcome: 'success' });
    }
  });

  it('should keep the audit chain verifiable after concurrent reveals', async () => {
    await revealConcurrently();

    const verified = await sut.http
      .post('/api/v1/audit/verify')
      .set('authorization', admin)
      .send({})
      .expect(200);
    expect(verified.body).toMatchObject({ ok: true });
  });

  it('should answer 500 without the secret to every concurrent reveal whose event cannot be written', async () => {
    await db.query(
      "CREATE TRIGGER reveal_audit_fails BEFORE INSERT ON audit_events FOR EACH ROW BEGIN IF NEW.action = 'credential.reveal' THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'audit unavailable'; END IF; END",
    );
    try {
      const responses = await revealConcurrently();

      expect(responses.map((r) => r.status)).toEqual(responses.map(() => 500));
      for (const response of responses) {
        expect(response.text).not.toContain(SECRET);
        expect(JSON.parse(response.text)).toMatchObject({
          statusCode: 500,
          requestId: response.id,
        });
      }
      const events = await eventsOf(responses.map((r) => r.id));
      expect(events.filter((e) => e.action === 'credential.reveal')).toEqual([]);
    } finally {
      await db.query('DROP TRIGGER IF EXISTS reveal_audit_fails');
    }
    // Nothing stuck: the next reveals go through again.
    const after = await revealConcurrently();
    expect(after.map((r) => r.status)).toEqual(after.map(() => 200));
  });

  describe('with a second instance on the same database', () => {
    let other: TestApp;

    beforeAll(async () => {
      other = await startApp(database, {
        env: { ...ENV, CUSTOS_MASTER_KEY: sut.env.CUSTOS_MASTER_KEY },
      });
    });

    afterAll(async () => {
      await other?.close();
    });

    it('should refuse a reveal at once when the other instance revokes the grant', async () => {
      const reader = await serviceWithGrants(sut, admin, [
        { pathPattern: 'acme/**', capabilities: ['read', 'reveal'] },
      ]);
      await sut.http.get('/api/v1/secrets/acme/prod/db').set(reader.headers).expect(200);
      const grants = await other.http
        .get(`/api/v1/grants?principalId=${reader.id}`)
        .set('authorization', admin)
        .expect(200);
      for (const grant of (grants.body as { items: { id: string; principalId: string }[] }).items) {
        if (grant.principalId !== reader.id) continue;
        await other.http
          .delete(`/api/v1/grants/${grant.id}`)
          .set('authorization', admin)
          .expect(204);
      }

      await sut.http.get('/api/v1/secrets/acme/prod/db').set(reader.headers).expect(404);
      await sut.http
        .post(`/api/v1/credentials/${credentialId}/reveal`)
        .set(reader.headers)
        .send({})
        .expect(404);
    });

    it('should refuse an API key at once when the other instance revokes it', async () => {
      const reader = await serviceWithGrants(sut, admin, [
        { pathPattern: 'acme/**', capabilities: ['read', 'reveal'] },
      ]);
      await sut.http.get('/api/v1/secrets/acme/prod/db').set(reader.headers).expect(200);
      const keys = await other.http
        .get(`/api/v1/service-accounts/${reader.id}/keys`)
        .set('authorization', admin)
        .expect(200);
      for (const key of (keys.body as { items: { id: string }[] }).items) {
        await other.http
          .delete(`/api/v1/service-accounts/${reader.id}/keys/${key.id}`)
          .set('authorization', admin)
          .expect(204);
      }

      await sut.http.get('/api/v1/secrets/acme/prod/db').set(reader.headers).expect(401);
    });
  });
});
