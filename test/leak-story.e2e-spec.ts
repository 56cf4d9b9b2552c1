import { DataSource } from 'typeorm';
import { ScratchDatabase } from '../src/database/cli/scratch-database';
import { openDirect } from './helpers/audit-db';
import { createCredential, Headers } from './helpers/credential-fixtures';
import { serviceWithGrants } from './helpers/principals';
import { until, versionStates } from './helpers/rotation-checks';
import { bearerFor, scratchMariadb, startApp, TestApp } from './helpers/test-app';
import { Radius, Revealer } from './helpers/blast-radius';

const API = '/api/v1';
const ENV = {
  THROTTLE_LIMIT: '100000',
  LOGIN_THROTTLE_LIMIT: '100000',
  // Reveals "from" distinct addresses: the test sets X-Forwarded-For.
  TRUST_PROXY: 'true',
};
const PATH = 'acme/prod/payments-key';
const KEY = 'ak_live_cGF5bWVudHMta2V5LWxlYWtlZC1ieS1iaWxsaW5n';
const BILLING_IP = '203.0.113.7';
const REPORTS_IP = '198.51.100.23';

interface ScanAnswer {
  matches: { credentialId: string; path: string; version: number; state: string }[];
  otherMatches: number;
  contained: boolean;
}

interface TimelineEntry {
  kind: string;
  text: string | null;
  auditSeq: string;
  details: Record<string, unknown>;
}

/**
 * Issue 12, "Done when", on MariaDB: a stored API key pasted into a text sent to /scan with
 * contain opens a credential_leak incident, the key is rotated with no grace, the old value stops
 * revealing, the service account that leaked it is cut off, and the incident's timeline and blast
 * radius tell the whole story.
 */
describe('Leak story (MariaDB)', () => {
  let database: ScratchDatabase;
  let db: DataSource;
  let sut: TestApp;

  beforeAll(async () => {
    database = await scratchMariadb();
    sut = await startApp(database, { env: ENV });
    db = await openDirect(database);
  });

  afterAll(async () => {
    await sut?.close();
    await db?.destroy();
    await database?.drop();
  });

  it('should contain a pasted API key from scan to contained incident, and tell the story', async () => {
    const http = sut.http;
    const admin: Headers = { authorization: await bearerFor(sut, 'admin') };
    const operator: Headers = { authorization: await bearerFor(sut, 'operator') };

    // 1. The key, its generated rotation policy, and the two services that read it.
    const stored = await createCredential(sut, admin, {
      path: PATH,
      type: 'api_key',
      secret: { apiKey: KEY },
    });
    await http
      .put(`${API}/credentials/${stored.id}/rotation`)
      .set(admin)
      .send({
        enabled: true,
        rotator: { kind: 'generated' },
        interval: 'P30D',
        gracePeriod: 'PT1H',
      })
      .expect(200);
    const grant = [{ pathPattern: 'acme/prod/*', capabilities: ['read', 'reveal'] }];
    const billing = await serviceWithGrants(sut, admin.authorization, grant, 'billing');
    const reports = await serviceWithGrants(sut, admin.authorization, grant, 'reports');
    const revealAs = (who: Headers, ip: string) =>
      http.get(`${API}/secrets/${PATH}`).set(who).set('x-forwarded-for', ip);
    const billingRead = await revealAs(billing.headers, BILLING_IP).expect(200);
    expect(billingRead.body).toMatchObject({ path: PATH, secret: { apiKey: KEY } });
    await revealAs(reports.headers, REPORTS_IP).expect(200);

    // 2. The security team scans a paste with billing's logs, the key among them, and contains.
    const paste = [
      '2026-11-29T23:58:01Z billing-worker[311]: INFO starting invoice batch 8812',
      '2026-11-29T23:58:02Z billing-worker[311]: DEBUG payments client config',
      `2026-11-29T23:58:02Z billing-worker[311]: DEBUG   endpoint=https://pay.example.test key=${KEY}`,
      '2026-11-29T23:58:03Z billing-worker[311]: WARN retrying charge 4471 (timeout)',
      '2026-11-29T23:58:09Z billing-worker[311]: INFO batch 8812 done: 312 invoices',
    ].join('\n');
    const scanned = await http
      .post(`${API}/scan`)
      .set(operator)
      .send({ text: paste, contain: true })
      .expect(200);
    const answer = scanned.body as ScanAnswer;
    expect(answer.matches).toEqual([
      { credentialId: stored.id, path: PATH, version: 1, state: 'current' },
    ]);
    expect(answer.otherMatches).toBe(0);
    expect(answer.contained).toBe(true);
    expect(JSON.stringify(answer)).not.toContain(KEY);
    const opened = await db.query<{ id: string; status: string; severity: string }[]>(
      "SELECT id, status, severity FROM incidents WHERE type = 'credential_leak' AND dedupe_key = ?",
      [`credential_leak:${stored.id}`],
    );
    expect(opened).toHaveLength(1);
    const incidentId = opened[0].id;
    expect(opened[0].status).toBe('investigating');

    // 3. Rotated with no grace: version 2 current, version 1 revoked at once and refused.
    const states = await until(
      async () => {
        const now = await versionStates((sql, params) => db.query(sql, params), stored.id);
        return now[2] === 'current' ? now : undefined;
      },
      20_000,
      'the emergency rotation to switch to version 2',
    );
    expect(states).toEqual({ 1: 'revoked', 2: 'current' });
    const revealVersion = (version?: number) =>
      http
        .post(`${API}/credentials/${stored.id}/reveal`)
        .set(admin)
        .send({ reason: 'leak drill', ...(version ? { version } : {}) });
    const oldReveal = await revealVersion(1);
    expect(oldReveal.status).not.toBe(200);
    expect(JSON.stringify(oldReveal.body)).not.toContain(KEY);
    const fresh = await revealVersion().expect(200);
    expect(fresh.body.version).toBe(2);
    const newKey = (fresh.body.secret as { apiKey: string }).apiKey;
    expect(typeof newKey).toBe('string');
    expect(newKey).not.toBe(KEY);
    expect(
      (await http.post(`${API}/scan`).set(operator).send({ text: paste }).expect(200)).body,
    ).toMatchObject({ matches: [] });

    // 4. Who saw it, who could now; billing is the suspect and is cut off.
    const radiusResponse = await http
      .get(`${API}/incidents/${incidentId}/blast-radius`)
      .set(operator)
      .expect(200);
    const radius = radiusResponse.body as Radius;
    const leaked = radius.credentials.find((c) => c.credentialId === stored.id);
    expect(leaked?.path).toBe(PATH);
    const revealers = new Map(leaked?.revealedBy.map((r) => [r.principal.id, r]));
    expect(revealers.get(billing.id)).toMatchObject({
      principal: { type: 'service_account', id: billing.id },
      reveals: 1,
      versions: [1],
      ips: [BILLING_IP],
    });
    expect(revealers.get(reports.id)).toMatchObject({
      principal: { type: 'service_account', id: reports.id },
      reveals: 1,
      versions: [1],
      ips: [REPORTS_IP],
    });
    const billingRevealer = revealers.get(billing.id) as Revealer;
    expect(billingRevealer.firstAt <= billingRevealer.lastAt).toBe(true);
    const canNow = new Map(leaked?.canRevealNow.map((a) => [a.principal.id, a.via]));
    expect(canNow.get(billing.id)).toEqual({ grants: ['acme/prod/*'] });
    expect(canNow.get(reports.id)).toEqual({ grants: ['acme/prod/*'] });

    await http
      .post(`${API}/incidents/${incidentId}/principals`)
      .set(operator)
      .send({ principals: [{ type: 'service_account', id: billing.id }] })
      .expect(200);
    const contained = await http
      .post(`${API}/incidents/${incidentId}/contain`)
      .set(operator)
      .send({ note: 'billing leaked the payments key in its debug logs; cut it off' })
      .expect(200);
    expect(contained.body.incident.status).toBe('contained');
    expect(contained.body.principals).toEqual([
      expect.objectContaining({ type: 'service_account', id: billing.id }),
    ]);
    await revealAs(billing.headers, BILLING_IP).expect(401);
    const reportsNow = await revealAs(reports.headers, REPORTS_IP).expect(200);
    expect(reportsNow.body).toMatchObject({ path: PATH, version: 2, secret: { apiKey: newKey } });

    // 5. The timeline, in order: detection, emergency rotation, link, containment.
    const timelineResponse = await http
      .get(`${API}/incidents/${incidentId}/timeline`)
      .set(operator)
      .expect(200);
    const timeline = (timelineResponse.body as { items: TimelineEntry[] }).items;
    const at = (predicate: (e: TimelineEntry) => boolean, what: string) => {
      const index = timeline.findIndex(predicate);
      if (index < 0) throw new Error(`no ${what} in ${JSON.stringify(timeline, null, 1)}`);
      return index;
    };
    const detection = at(
      (e) =>
        e.kind === 'detection' &&
        e.details.detector === 'leak_scan' &&
        e.details.credentialId === stored.id,
      'leak-scan detection',
    );
    expect(timeline[detection].details).toMatchObject({ versions: [1] });
    const rotation = at(
      (e) => e.kind === 'action' && JSON.stringify(e.details).includes(stored.id),
      'emergency rotation action',
    );
    expect(timeline[rotation].details).toMatchObject({ containment: 'rotating', trigger: 'leak' });
    const link = at(
      (e) => e.kind === 'link' && JSON.stringify(e.details).includes(billing.id),
      'principal link',
    );
    const transition = at(
      (e) => e.kind === 'transition' && e.details.to === 'contained',
      'transition to contained',
    );
    const summary = at(
      (e) => e.kind === 'action' && Array.isArray(e.details.suspended),
      'containment summary',
    );
    expect(detection).toBeLessThan(rotation);
    expect(rotation).toBeLessThan(link);
    expect(link).toBeLessThan(transition);
    expect(transition).toBeLessThanOrEqual(summary);
    expect(timeline[summary].details.suspended).toEqual([
      { type: 'service_account', id: billing.id },
    ]);
    expect(JSON.stringify(timeline)).not.toContain(KEY);
    expect(JSON.stringify(timeline)).not.toContain(newKey);

    const exported = await http
      .get(`${API}/incidents/${incidentId}/export`)
      .set(operator)
      .expect(200);
    const report = exported.body as {
      incident: { id: string; status: string; type: string };
      timeline: { kind: string }[];
      blastRadius: Radius;
      auditHeads: { lane: number; seq: string | null; hash: string | null }[];
    };
    expect(report.incident).toMatchObject({
      id: incidentId,
      status: 'contained',
      type: 'credential_leak',
    });
    expect(report.timeline.map((e) => e.kind)).toEqual(timeline.map((e) => e.kind));
    expect(report.blastRadius.credentials.map((c) => c.credentialId)).toEqual([stored.id]);
    expect(report.blastRadius.principals.map((p) => p.principal)).toEqual([
      { type: 'service_account', id: billing.id },
    ]);
    expect(report.auditHeads.some((h) => h.seq !== null && h.hash !== null)).toBe(true);
    expect(JSON.stringify(report)).not.toContain(KEY);
    expect(JSON.stringify(report)).not.toContain(newKey);

    const verify = await http.post(`${API}/audit/verify`).set(admin).expect(200);
    expect(verify.body).toMatchObject({ ok: true });
    const events = await db.query<{ type: string }[]>(
      'SELECT type FROM event_outbox WHERE resource_id = ? ORDER BY seq',
      [incidentId],
    );
    expect(events.map((e) => e.type)).toEqual(
      expect.arrayContaining(['incident.opened', 'incident.contained']),
    );
  });
});
