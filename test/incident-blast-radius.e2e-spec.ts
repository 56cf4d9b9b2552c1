import { DataSource } from 'typeorm';
import { ScratchDatabase } from '../src/database/cli/scratch-database';
import { IncidentRecorder } from '../src/incidents/incident-recorder';
import { openDirect } from './helpers/audit-db';
import { serviceWithGrants } from './helpers/principals';
import { bearerFor, scratchMariadb, startApp, TestApp } from './helpers/test-app';
import { Radius, Revealer } from './helpers/blast-radius';

const ENV = {
  THROTTLE_LIMIT: '100000',
  LOGIN_THROTTLE_LIMIT: '100000',
  // Reveals "from" several addresses: the test sets X-Forwarded-For.
  TRUST_PROXY: 'true',
  DETECTORS_ENABLED: 'false',
};

/** The user id in an access token (its `sub`). */
function userIdOf(bearer: string): string {
  const payload = bearer.split('.')[1];
  return (JSON.parse(Buffer.from(payload, 'base64url').toString()) as { sub: string }).sub;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Issue 12, item 4: who revealed an incident's credentials (which versions, when, from where),
 * who may reveal them now, and what its suspected principals revealed, from a real audit history
 * built over HTTP, with one reveal before the window.
 */
describe('Incident blast radius and export (MariaDB)', () => {
  let database: ScratchDatabase;
  let db: DataSource;
  let sut: TestApp;
  let admin: string;
  let operator: string;
  let auditor: string;
  let viewer: string;
  let prodDb: string;
  let prodApi: string;
  let devX: string;
  let harvester: { id: string; headers: Record<string, string> };
  let devReader: { id: string; headers: Record<string, string> };
  let metadataOnly: { id: string; headers: Record<string, string> };
  let incidentId: string;
  let windowStart: string;

  async function create(path: string): Promise<string> {
    const created = await sut.http
      .post('/api/v1/credentials')
      .set('authorization', admin)
      .send({
        path,
        name: path.split('/').pop(),
        type: 'password',
        secret: { password: `pw-${path}` },
      })
      .expect(201);
    return (created.body as { id: string }).id;
  }

  const revealAs = (headers: Record<string, string>, path: string, ip: string) =>
    sut.http.get(`/api/v1/secrets/${path}`).set(headers).set('x-forwarded-for', ip).expect(200);

  beforeAll(async () => {
    database = await scratchMariadb();
    sut = await startApp(database, { env: ENV });
    db = await openDirect(database);
    admin = await bearerFor(sut, 'admin');
    operator = await bearerFor(sut, 'operator');
    auditor = await bearerFor(sut, 'auditor');
    viewer = await bearerFor(sut, 'viewer');
    prodDb = await create('acme/prod/db');
    prodApi = await create('acme/prod/api');
    devX = await create('acme/dev/x');
    harvester = await serviceWithGrants(sut, admin, [
      { pathPattern: 'acme/prod/*', capabilities: ['read', 'reveal'] },
      { pathPattern: 'acme/dev/*', capabilities: ['read', 'reveal'] },
    ]);
    devReader = await serviceWithGrants(sut, admin, [
      { pathPattern: 'acme/dev/*', capabilities: ['read', 'reveal'] },
    ]);
    metadataOnly = await serviceWithGrants(sut, admin, [
      { pathPattern: 'acme/prod/db', capabilities: ['read'] },
    ]);

    // Before the window.
    await revealAs(harvester.headers, 'acme/prod/db', '198.51.100.1');
    await pause(50);
    windowStart = new Date().toISOString();
    await pause(50);
    // In the window: version 1 then, after a change, version 2, from several addresses.
    await revealAs(harvester.headers, 'acme/prod/db', '203.0.113.5');
    await sut.http
      .put(`/api/v1/credentials/${prodDb}/secret`)
      .set('authorization', admin)
      .send({ secret: { password: 'pw-v2' } })
      .expect(200);
    await revealAs(harvester.headers, 'acme/prod/db', '203.0.113.6');
    await sut.http
      .post(`/api/v1/credentials/${prodDb}/reveal`)
      .set('authorization', operator)
      .set('x-forwarded-for', '192.0.2.9')
      .send({ reason: 'incident drill' })
      .expect(200);
    await revealAs(harvester.headers, 'acme/prod/api', '203.0.113.5');
    await revealAs(harvester.headers, 'acme/dev/x', '203.0.113.5');
    await revealAs(devReader.headers, 'acme/dev/x', '10.1.1.1');

    const { incident } = await sut.app.get(IncidentRecorder).openOrAdd({
      type: 'unauthorized_access',
      severity: 'high',
      title: 'harvester key seen on a paste site',
      dedupeKey: `blast-radius-e2e-${Date.now()}`,
      windowSeconds: 3600,
      credentialIds: [prodDb, prodApi],
      principals: [{ type: 'service_account', id: harvester.id }],
      detection: { source: 'e2e' },
    });
    incidentId = incident.id;
  });

  afterAll(async () => {
    await sut?.close();
    await db?.destroy();
    await database?.drop();
  });

  async function radius(query = '', as = auditor): Promise<Radius> {
    const response = await sut.http
      .get(`/api/v1/incidents/${incidentId}/blast-radius${query}`)
      .set('authorization', as)
      .expect(200);
    return response.body as Radius;
  }

  it('should list who revealed each linked credential in the window, with versions, times and IPs', async () => {
    const body = await radius(`?since=${windowStart}`);
    const db1 = body.credentials.find((c) => c.credentialId === prodDb);
    expect(db1?.path).toBe('acme/prod/db');
    const byId = new Map(db1?.revealedBy.map((r) => [r.principal.id, r]));
    expect(byId.get(harvester.id)).toMatchObject({
      principal: { type: 'service_account', id: harvester.id },
      reveals: 2,
      versions: [1, 2],
      ips: ['203.0.113.5', '203.0.113.6'],
    });
    const harvesterReveals = byId.get(harvester.id) as Revealer;
    expect(harvesterReveals.firstAt <= harvesterReveals.lastAt).toBe(true);
    expect(harvesterReveals.firstAt >= windowStart).toBe(true);
    expect(byId.get(userIdOf(operator))).toMatchObject({
      principal: { type: 'user' },
      reveals: 1,
      versions: [2],
      ips: ['192.0.2.9'],
    });
    expect(byId.size).toBe(2);
    const api = body.credentials.find((c) => c.credentialId === prodApi);
    expect(api?.revealedBy.map((r) => r.principal.id)).toEqual([harvester.id]);
  });

  it('should reach 30 days back from detection by default, the early reveal included', async () => {
    const body = await radius();
    expect(new Date(body.since).getTime()).toBeLessThan(Date.now() - 29 * 86_400_000);
    const db1 = body.credentials.find((c) => c.credentialId === prodDb);
    const harvesterReveals = db1?.revealedBy.find((r) => r.principal.id === harvester.id);
    expect(harvesterReveals).toMatchObject({
      reveals: 3,
      ips: ['198.51.100.1', '203.0.113.5', '203.0.113.6'],
    });
  });

  it('should list who may reveal each linked credential now, by role or by grant', async () => {
    const body = await radius();
    const db1 = body.credentials.find((c) => c.credentialId === prodDb);
    const now = new Map(db1?.canRevealNow.map((a) => [a.principal.id, a.via]));
    expect(now.get(userIdOf(admin))).toEqual({ role: 'admin' });
    expect(now.get(userIdOf(operator))).toEqual({ role: 'operator' });
    expect(now.get(harvester.id)).toEqual({ grants: ['acme/prod/*'] });
    // Auditors and viewers never reveal; a dev grant and a read-only grant do not cover it.
    expect(now.has(userIdOf(auditor))).toBe(false);
    expect(now.has(userIdOf(viewer))).toBe(false);
    expect(now.has(devReader.id)).toBe(false);
    expect(now.has(metadataOnly.id)).toBe(false);
  });

  it('should list every credential the linked principals revealed in the window', async () => {
    const body = await radius(`?since=${windowStart}`);
    const [linked] = body.principals;
    expect(linked.principal).toEqual({ type: 'service_account', id: harvester.id });
    const revealed = new Map(linked.revealed.map((r) => [r.credentialId, r]));
    expect([...revealed.keys()].sort()).toEqual([prodDb, prodApi, devX].sort());
    expect(revealed.get(prodDb)?.reveals).toBe(2);
    expect(revealed.get(devX)?.ips).toEqual(['203.0.113.5']);
  });

  it('should refuse viewers and services, and answer 404 for an unknown incident', async () => {
    const url = `/api/v1/incidents/${incidentId}/blast-radius`;
    await sut.http.get(url).set('authorization', viewer).expect(403);
    await sut.http.get(url).set(harvester.headers).expect(403);
    await sut.http.get(`/api/v1/incidents/${incidentId}/export`).set(harvester.headers).expect(403);
    await sut.http
      .get('/api/v1/incidents/0b6c3a7e-5d1f-4e2a-9b8c-7d6e5f4a3b2c/blast-radius')
      .set('authorization', operator)
      .expect(404);
  });

  it('should export the incident, its timeline and blast radius with the chain heads it was read against', async () => {
    const response = await sut.http
      .get(`/api/v1/incidents/${incidentId}/export`)
      .set('authorization', operator)
      .expect(200);
    const body = response.body as {
      incident: { id: string; title: string };
      timeline: { kind: string }[];
      blastRadius: Radius;
      auditHeads: { lane: number; laneSeq: string; seq: string | null; hash: string | null }[];
    };
    expect(body.incident).toMatchObject({
      id: incidentId,
      title: 'harvester key seen on a paste site',
    });
    expect(body.timeline.length).toBeGreaterThan(0);
    expect(body.blastRadius.credentials.map((c) => c.credentialId).sort()).toEqual(
      [prodDb, prodApi].sort(),
    );
    expect(body.auditHeads.length).toBeGreaterThan(0);
    // Each head is the hash of the event it names, as stored in the chain.
    for (const head of body.auditHeads.filter((h) => h.seq !== null)) {
      const [event] = await db.query<{ hash: string; lane: number }[]>(
        'SELECT hash, lane FROM audit_events WHERE seq = ?',
        [head.seq],
      );
      expect(event).toEqual({ hash: head.hash, lane: head.lane });
    }
    // Every reveal the export counts is at or below the heads it names.
    const highest = Math.max(...body.auditHeads.map((h) => Number(h.seq ?? 0)));
    const [{ latest }] = await db.query<{ latest: string }[]>(
      "SELECT MAX(seq) AS latest FROM audit_events WHERE action = 'credential.reveal'",
    );
    expect(Number(latest)).toBeLessThanOrEqual(highest);
    expect(JSON.stringify(body)).not.toContain('pw-');
  });
});
