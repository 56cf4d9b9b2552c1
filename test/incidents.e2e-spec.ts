import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { ScratchDatabase } from '../src/database/cli/scratch-database';
import { IncidentRecorder } from '../src/incidents/incident-recorder';
import { openDirect } from './helpers/audit-db';
import { createCredential, Headers } from './helpers/credential-fixtures';
import { serviceWithGrants } from './helpers/principals';
import { until } from './helpers/rotation-checks';
import { bearerFor, scratchMariadb, startApp, TestApp } from './helpers/test-app';

const API = '/api/v1';

describe('Incidents (MariaDB)', () => {
  let database: ScratchDatabase;
  let db: DataSource;
  let sut: TestApp;
  let admin: Headers;
  let operator: Headers;
  let auditor: Headers;
  let viewer: Headers;

  beforeAll(async () => {
    database = await scratchMariadb();
    sut = await startApp(database, { env: { THROTTLE_LIMIT: '100000', ROTATION_TICK: 'PT1S' } });
    db = await openDirect(database);
    admin = { authorization: await bearerFor(sut, 'admin') };
    operator = { authorization: await bearerFor(sut, 'operator') };
    auditor = { authorization: await bearerFor(sut, 'auditor') };
    viewer = { authorization: await bearerFor(sut, 'viewer') };
  });

  afterAll(async () => {
    await sut?.close();
    await db?.destroy();
    await database?.drop();
  });

  async function open(headers = operator): Promise<{ id: string; status: string }> {
    const response = await sut.http
      .post(`${API}/incidents`)
      .set(headers)
      .send({ type: 'credential_leak', severity: 'high', title: 'key in a gist' })
      .expect(201);
    return response.body as { id: string; status: string };
  }

  async function timeline(id: string) {
    const response = await sut.http.get(`${API}/incidents/${id}/timeline`).set(auditor).expect(200);
    return (
      response.body as {
        items: { kind: string; auditSeq: string; details: Record<string, unknown> }[];
      }
    ).items;
  }

  it('should run the workflow and answer an illegal move with 409, changing nothing', async () => {
    const { id } = await open();
    const move = (to: string, note = 'because') =>
      sut.http.post(`${API}/incidents/${id}/transition`).set(operator).send({ to, note });
    expect((await move('resolved')).status).toBe(409);
    expect((await move('contained', '')).status).toBe(400);
    const got = await sut.http.get(`${API}/incidents/${id}`).set(auditor).expect(200);
    expect(got.body).toMatchObject({ status: 'investigating', containedAt: null });
    for (const to of [
      'contained',
      'monitoring',
      'resolved',
      'investigating',
      'contained',
      'resolved',
    ]) {
      expect((await move(to)).status).toBe(200);
    }
    await sut.http
      .post(`${API}/incidents/${id}/comments`)
      .set(operator)
      .send({ text: 'noted' })
      .expect(201);
    const entries = await timeline(id);
    expect(entries.map((e) => e.kind)).toEqual([
      'transition',
      'transition',
      'transition',
      'transition',
      'transition',
      'transition',
      'transition',
      'comment',
    ]);
    const seqs = entries.map((e) => e.auditSeq);
    const audits = await db.query<{ seq: string; resource_id: string }[]>(
      `SELECT seq, resource_id FROM audit_events WHERE seq IN (${seqs.map(() => '?').join(',')})`,
      seqs,
    );
    expect(audits).toHaveLength(seqs.length);
    expect(audits.every((a) => a.resource_id === id)).toBe(true);
    const events = await db.query<{ type: string }[]>(
      'SELECT type FROM event_outbox WHERE resource_id = ? ORDER BY seq',
      [id],
    );
    expect(events.map((e) => e.type)).toEqual([
      'incident.opened',
      ...Array(6).fill('incident.transitioned'),
    ]);
    const verify = await sut.http.post(`${API}/audit/verify`).set(admin).expect(200);
    expect(verify.body).toMatchObject({ ok: true });
  });

  it('should let auditors read and refuse viewers and services', async () => {
    const { id } = await open();
    await sut.http.post(`${API}/incidents`).set(auditor).send({}).expect(403);
    await sut.http
      .post(`${API}/incidents/${id}/comments`)
      .set(auditor)
      .send({ text: 'x' })
      .expect(403);
    await sut.http.get(`${API}/incidents`).set(viewer).expect(403);
    await sut.http.get(`${API}/incidents/${id}`).set(viewer).expect(403);
    const service = await serviceWithGrants(sut, admin.authorization, []);
    await sut.http.get(`${API}/incidents`).set(service.headers).expect(403);
    await sut.http.get(`${API}/incidents`).expect(401);
    await sut.http.get(`${API}/incidents/not-a-uuid`).set(auditor).expect(400);
    const list = await sut.http
      .get(`${API}/incidents?type=credential_leak&limit=1`)
      .set(auditor)
      .expect(200);
    expect(list.body.items).toHaveLength(1);
    expect(list.body.nextCursor).toEqual(expect.any(String));
  });

  it('should contain: rotate generated, mark manual must-rotate, cut off principals, freeze', async () => {
    const generated = await createCredential(sut, admin, { path: `inc/${Date.now()}/gen` });
    await sut.http
      .put(`${API}/credentials/${generated.id}/rotation`)
      .set(admin)
      .send({
        enabled: true,
        rotator: { kind: 'generated' },
        interval: 'P30D',
        gracePeriod: 'PT1H',
      })
      .expect(200);
    const manual = await createCredential(sut, admin, { path: `inc/${Date.now()}/manual` });
    const service = await serviceWithGrants(sut, admin.authorization, [
      { pathPattern: 'inc/**', capabilities: ['read', 'reveal'] },
    ]);
    await sut.http.get(`${API}/credentials/${generated.id}`).set(service.headers).expect(200);
    const { id } = await open();
    await sut.http
      .post(`${API}/incidents/${id}/credentials`)
      .set(operator)
      .send({ credentialIds: ['00000000-0000-4000-8000-000000000000'] })
      .expect(404);
    await sut.http
      .post(`${API}/incidents/${id}/credentials`)
      .set(operator)
      .send({ credentialIds: [generated.id, manual.id] })
      .expect(200);
    await sut.http
      .post(`${API}/incidents/${id}/principals`)
      .set(operator)
      .send({ principals: [{ type: 'service_account', id: service.id }] })
      .expect(200);

    const contained = await sut.http
      .post(`${API}/incidents/${id}/contain`)
      .set(operator)
      .send({ note: 'cut it off', freeze: true })
      .expect(200);
    expect(contained.body.incident.status).toBe('contained');
    const outcomes = Object.fromEntries(
      (contained.body.credentials as { credentialId: string; outcome: string }[]).map((c) => [
        c.credentialId,
        c.outcome,
      ]),
    );
    expect(outcomes).toEqual({ [generated.id]: 'rotating', [manual.id]: 'must_rotate' });
    await sut.http.get(`${API}/credentials/${generated.id}`).set(service.headers).expect(401);

    // Frozen: an operator may not reveal, an admin may.
    const reveal = (headers: Headers, version?: number) =>
      sut.http
        .post(`${API}/credentials/${generated.id}/reveal`)
        .set(headers)
        .send({ reason: 'incident', ...(version ? { version } : {}) });
    expect((await reveal(operator)).status).toBe(403);
    await until(async () => {
      const v1 = await reveal(admin, 1);
      return v1.status !== 200 ? v1 : undefined;
    });
    expect((await reveal(admin)).body.version).toBe(2);

    // Twice is harmless.
    const again = await sut.http
      .post(`${API}/incidents/${id}/contain`)
      .set(operator)
      .send({})
      .expect(200);
    expect((again.body.credentials as { outcome: string }[]).map((c) => c.outcome)).toEqual([
      'already_handled',
      'already_handled',
    ]);
    const entries = await timeline(id);
    expect(
      entries.some(
        (e) => e.details.containment === 'must_rotate' && e.details.credentialId === manual.id,
      ),
    ).toBe(true);
    const events = await db.query<{ type: string }[]>(
      "SELECT type FROM event_outbox WHERE resource_id = ? AND type = 'incident.contained'",
      [id],
    );
    expect(events).toHaveLength(2);

    // The freeze ends when the incident moves on.
    await sut.http
      .post(`${API}/incidents/${id}/transition`)
      .set(operator)
      .send({ to: 'monitoring', note: 'watching' })
      .expect(200);
    expect((await reveal(operator)).status).toBe(200);
  });

  it('should end a linked user’s sessions on containment', async () => {
    const email = `victim-${Date.now()}@example.test`;
    const password = `Tq8!${randomBytes(12).toString('base64url')}`;
    const created = await sut.http
      .post(`${API}/users`)
      .set(admin)
      .send({ email, password, role: 'operator' })
      .expect(201);
    const login = await sut.http.post(`${API}/auth/login`).send({ email, password }).expect(200);
    const { id } = await open();
    await sut.http
      .post(`${API}/incidents/${id}/principals`)
      .set(operator)
      .send({ principals: [{ type: 'user', id: created.body.id }] })
      .expect(200);
    await sut.http.post(`${API}/incidents/${id}/contain`).set(operator).send({}).expect(200);
    const refresh = await sut.http
      .post(`${API}/auth/refresh`)
      .send({ refreshToken: login.body.refreshToken });
    expect(refresh.status).toBe(401);
  });

  it('should make one incident of ten concurrent detections with one key', async () => {
    const recorder = sut.app.get(IncidentRecorder);
    const key = `brute:${Date.now()}`;
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        recorder.openOrAdd({
          type: 'brute_force',
          severity: 'medium',
          title: 'failed logins',
          dedupeKey: key,
          windowSeconds: 600,
          detection: { attempt: i },
        }),
      ),
    );
    expect(new Set(results.map((r) => r.incident.id)).size).toBe(1);
    expect(results.filter((r) => r.opened)).toHaveLength(1);
    const entries = await timeline(results[0].incident.id);
    expect(entries.filter((e) => e.kind === 'detection')).toHaveLength(10);
  });
});
