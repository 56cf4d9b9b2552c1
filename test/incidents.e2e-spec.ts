import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { ScratchDatabase } from '../src/database/cli/scratch-database';
import { IncidentRecorder } from '../src/incidents/incident-recorder';
import { PermanentRotationError, Rotator } from '../src/rotation/rotators/rotator';
import { RotatorRegistry } from '../src/rotation/rotators/rotator-registry';
import { openDirect } from './helpers/audit-db';
import { createCredential, Headers } from './helpers/credential-fixtures';
import { serviceWithGrants } from './helpers/principals';
import { until } from './helpers/rotation-checks';
import { bearerFor, scratchMariadb, startApp, TestApp } from './helpers/test-app';

const API = '/api/v1';

/** An automatic rotator whose apply step fails for good until the test lets it through. */
class SwitchRotator implements Rotator {
  readonly kind = 'switch';
  readonly settingsClass = class {};
  failing = true;
  describe() {
    return {
      kind: this.kind,
      summary: 'fails until switched',
      types: ['password'] as const,
      usesGenerator: false,
      settings: {},
    };
  }
  create() {
    return Promise.resolve({ password: `switched-${randomBytes(8).toString('hex')}` });
  }
  apply() {
    if (this.failing) throw new PermanentRotationError('the target refused the value (test)');
    return Promise.resolve();
  }
  test() {
    return Promise.resolve();
  }
  finish() {
    return Promise.resolve();
  }
}

interface Run {
  id: string;
  status: string;
}

describe('Incidents (MariaDB)', () => {
  let database: ScratchDatabase;
  let db: DataSource;
  let sut: TestApp;
  let admin: Headers;
  let operator: Headers;
  let auditor: Headers;
  let viewer: Headers;
  const switchRotator = new SwitchRotator();

  beforeAll(async () => {
    database = await scratchMariadb();
    sut = await startApp(database, { env: { THROTTLE_LIMIT: '100000', ROTATION_TICK: 'PT1S' } });
    sut.app.get(RotatorRegistry).register(switchRotator);
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
    // The audit log names the same three events.
    const audited = await db.query<{ action: string }[]>(
      "SELECT DISTINCT action FROM audit_events WHERE resource_id = ? AND action LIKE 'incident.%ed'",
      [id],
    );
    expect(audited.map((a) => a.action).sort()).toEqual([
      'incident.contained',
      'incident.opened',
      'incident.transitioned',
    ]);

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

  it('should leave a linked admin active when an operator contains, and suspend it when an admin does', async () => {
    const email = `suspect-admin-${Date.now()}@example.test`;
    const password = `Tq8!${randomBytes(12).toString('base64url')}`;
    const created = await sut.http
      .post(`${API}/users`)
      .set(admin)
      .send({ email, password, role: 'admin' })
      .expect(201);
    const adminId = (created.body as { id: string }).id;
    const login = await sut.http.post(`${API}/auth/login`).send({ email, password }).expect(200);
    const { id } = await open();
    await sut.http
      .post(`${API}/incidents/${id}/principals`)
      .set(operator)
      .send({ principals: [{ type: 'user', id: adminId }] })
      .expect(200);

    const byOperator = await sut.http
      .post(`${API}/incidents/${id}/contain`)
      .set(operator)
      .send({})
      .expect(200);
    expect(byOperator.body.principals).toEqual([
      expect.objectContaining({ id: adminId, suspended: false, refused: expect.any(String) }),
    ]);
    const [row] = await db.query<{ status: string }[]>('SELECT status FROM users WHERE id = ?', [
      adminId,
    ]);
    expect(row.status).toBe('active');
    await sut.http
      .get(`${API}/credentials`)
      .set({ authorization: `Bearer ${login.body.accessToken}` })
      .expect(200);
    expect(JSON.stringify(await timeline(id))).toContain('only an admin may suspend');

    const byAdmin = await sut.http
      .post(`${API}/incidents/${id}/contain`)
      .set(admin)
      .send({})
      .expect(200);
    expect(byAdmin.body.principals).toEqual([
      expect.objectContaining({ id: adminId, suspended: true }),
    ]);
    await sut.http
      .get(`${API}/credentials`)
      .set({ authorization: `Bearer ${login.body.accessToken}` })
      .expect(401);
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
  async function move(id: string, to: string, note = 'because') {
    return sut.http.post(`${API}/incidents/${id}/transition`).set(operator).send({ to, note });
  }

  async function linkAndContain(id: string, credentialIds: string[]) {
    await sut.http
      .post(`${API}/incidents/${id}/credentials`)
      .set(operator)
      .send({ credentialIds })
      .expect(200);
    return containAgain(id);
  }

  async function containAgain(id: string) {
    const response = await sut.http
      .post(`${API}/incidents/${id}/contain`)
      .set(operator)
      .send({})
      .expect(200);
    return response.body as {
      credentials: { credentialId: string; outcome: string; runId: string | null }[];
    };
  }

  async function runReaches(runId: string, status: string): Promise<void> {
    await until(
      async () => {
        const run = await sut.http.get(`${API}/rotations/${runId}`).set(admin).expect(200);
        return (run.body as Run).status === status ? true : undefined;
      },
      20_000,
      `run ${runId} ${status}`,
    );
  }

  it('should start a new emergency run when containing again after the first one failed', async () => {
    switchRotator.failing = true;
    const credential = await createCredential(sut, admin, { path: `inc/${Date.now()}/switch` });
    await sut.http
      .put(`${API}/credentials/${credential.id}/rotation`)
      .set(admin)
      .send({ enabled: true, rotator: { kind: 'switch' }, interval: 'P30D', gracePeriod: 'PT1H' })
      .expect(200);
    const { id } = await open();

    const first = await linkAndContain(id, [credential.id]);
    expect(first.credentials).toEqual([
      {
        credentialId: credential.id,
        path: credential.path,
        outcome: 'rotating',
        runId: expect.any(String),
        error: null,
      },
    ]);
    const failedRunId = first.credentials[0].runId!;
    await runReaches(failedRunId, 'failed');
    // Still exposed, and the incident says what a person must do about it.
    expect(
      (await sut.http.get(`${API}/incidents/${id}`).set(auditor).expect(200)).body.openActions,
    ).toEqual([
      expect.objectContaining({
        credentialId: credential.id,
        action: 'contain_again',
        runId: failedRunId,
      }),
    ]);

    switchRotator.failing = false;
    const second = await containAgain(id);
    expect(second.credentials).toEqual([
      expect.objectContaining({ credentialId: credential.id, outcome: 'rotating' }),
    ]);
    const newRunId = second.credentials[0].runId!;
    expect(newRunId).not.toBe(failedRunId);
    await runReaches(newRunId, 'succeeded');
    expect(
      (await sut.http.get(`${API}/incidents/${id}`).set(auditor).expect(200)).body.openActions,
    ).toEqual([]);
    // The exposed value died at the switch (grace 0).
    await sut.http
      .post(`${API}/credentials/${credential.id}/reveal`)
      .set(admin)
      .send({ version: 1, reason: 'incident' })
      .expect((response) => expect(response.status).not.toBe(200));

    // Handled now: a third call leaves it alone.
    const third = await containAgain(id);
    expect(third.credentials.map((c) => c.outcome)).toEqual(['already_handled']);
  });

  it('should list a credential without an automatic rotator as an open action until a person rotates it', async () => {
    const manual = await createCredential(sut, admin, { path: `inc/${Date.now()}/smtp` });
    const generated = await createCredential(sut, admin, { path: `inc/${Date.now()}/api` });
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
    const { id } = await open();
    const contained = await linkAndContain(id, [manual.id, generated.id]);
    const waitingRunId = contained.credentials.find((c) => c.credentialId === manual.id)!.runId;

    const expected = [
      {
        credentialId: manual.id,
        path: manual.path,
        action: 'rotate_manually',
        description: expect.stringContaining(`PUT /api/v1/credentials/${manual.id}/secret`),
        runId: waitingRunId,
        since: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      },
    ];
    const detail = await sut.http.get(`${API}/incidents/${id}`).set(auditor).expect(200);
    expect(detail.body.openActions).toEqual(expected);
    const exported = await sut.http.get(`${API}/incidents/${id}/export`).set(auditor).expect(200);
    expect(exported.body.incident.openActions).toEqual(expected);
    // Containing again changes nothing: the waiting run still handles it.
    await containAgain(id);
    expect((await sut.http.get(`${API}/incidents/${id}`).set(auditor)).body.openActions).toEqual(
      expected,
    );

    // The manual rotation: a person writes the new value, which finishes the waiting run.
    await sut.http
      .put(`${API}/credentials/${manual.id}/secret`)
      .set(operator)
      .send({ secret: { password: `rotated-${randomBytes(8).toString('hex')}` } })
      .expect(200);
    await runReaches(waitingRunId!, 'succeeded');
    const after = await sut.http.get(`${API}/incidents/${id}`).set(auditor).expect(200);
    expect(after.body.openActions).toEqual([]);
    const exportedAfter = await sut.http
      .get(`${API}/incidents/${id}/export`)
      .set(auditor)
      .expect(200);
    expect(exportedAfter.body.incident.openActions).toEqual([]);
  });

  it('should refuse every illegal transition with 409 and a blank note with 400, changing nothing', async () => {
    // Issue 12's workflow, written out here rather than taken from the code under test.
    const legal: Record<string, string[]> = {
      investigating: ['contained'],
      contained: ['monitoring', 'resolved'],
      monitoring: ['resolved', 'investigating'],
      resolved: ['investigating'],
    };
    const reach: Record<string, string[]> = {
      investigating: [],
      contained: ['contained'],
      monitoring: ['contained', 'monitoring'],
      resolved: ['contained', 'resolved'],
    };
    const states = Object.keys(legal);
    const snapshot = async (id: string) => ({
      incident: (await sut.http.get(`${API}/incidents/${id}`).set(auditor).expect(200)).body,
      timeline: await timeline(id),
      events: await db.query<{ seq: string }[]>(
        'SELECT seq FROM event_outbox WHERE resource_id = ? ORDER BY seq',
        [id],
      ),
    });
    let refused = 0;
    for (const from of states) {
      const { id } = await open();
      for (const to of reach[from]) expect((await move(id, to)).status).toBe(200);
      const before = await snapshot(id);
      expect(before.incident.status).toBe(from);
      for (const to of states.filter((state) => !legal[from].includes(state))) {
        const response = await move(id, to);
        expect([from, to, response.status]).toEqual([from, to, 409]);
        expect(response.body).toMatchObject({ statusCode: 409 });
        refused++;
      }
      for (const note of ['   ', '\n\t\r\n']) {
        expect((await move(id, legal[from][0], note)).status).toBe(400);
      }
      await sut.http
        .post(`${API}/incidents/${id}/comments`)
        .set(operator)
        .send({ text: ' \n ' })
        .expect(400);
      expect(await snapshot(id)).toEqual(before);
    }
    expect(refused).toBe(10);
  });

  it('should filter the list by status, type, severity, assignee and detection time, page by page', async () => {
    const user = await sut.http
      .post(`${API}/users`)
      .set(admin)
      .send({
        email: `assignee-${Date.now()}@example.test`,
        password: `Tq8!${randomBytes(12).toString('base64url')}`,
        role: 'operator',
      })
      .expect(201);
    const assigneeId = (user.body as { id: string }).id;
    // Detected in 2001: no other test's incident falls in that window.
    const specs = [
      { day: 1, type: 'phishing', severity: 'low' },
      { day: 2, type: 'phishing', severity: 'high', assigneeId },
      { day: 3, type: 'malware', severity: 'high' },
      { day: 4, type: 'malware', severity: 'critical', assigneeId },
      { day: 5, type: 'bec', severity: 'medium' },
    ];
    const ids: Record<number, string> = {};
    for (const { day, ...fields } of specs) {
      const created = await sut.http
        .post(`${API}/incidents`)
        .set(operator)
        .send({ ...fields, title: `day ${day}`, detectedAt: `2001-01-0${day}T12:00:00.000Z` })
        .expect(201);
      ids[day] = (created.body as { id: string }).id;
    }
    expect((await move(ids[3], 'contained')).status).toBe(200);

    const window = 'from=2001-01-01T00:00:00.000Z&to=2001-01-06T00:00:00.000Z';
    const titles = async (query: string) => {
      const response = await sut.http.get(`${API}/incidents?${query}`).set(auditor).expect(200);
      return (response.body as { items: { title: string }[] }).items.map((i) => i.title);
    };
    expect(await titles(window)).toEqual(['day 5', 'day 4', 'day 3', 'day 2', 'day 1']);
    expect(await titles(`${window}&status=contained`)).toEqual(['day 3']);
    expect(await titles(`${window}&status=investigating`)).toEqual([
      'day 5',
      'day 4',
      'day 2',
      'day 1',
    ]);
    expect(await titles(`${window}&status=resolved`)).toEqual([]);
    expect(await titles(`${window}&type=malware`)).toEqual(['day 4', 'day 3']);
    expect(await titles(`${window}&severity=high`)).toEqual(['day 3', 'day 2']);
    expect(await titles(`${window}&assignee=${assigneeId}`)).toEqual(['day 4', 'day 2']);
    expect(await titles(`${window}&type=phishing&severity=high&assignee=${assigneeId}`)).toEqual([
      'day 2',
    ]);
    // from is inclusive, to exclusive.
    expect(await titles('from=2001-01-02T12:00:00.000Z&to=2001-01-04T12:00:00.000Z')).toEqual([
      'day 3',
      'day 2',
    ]);

    const pages: string[][] = [];
    let cursor: string | null = null;
    do {
      const response = await sut.http
        .get(
          `${API}/incidents?${window}&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        )
        .set(auditor)
        .expect(200);
      const page = response.body as { items: { title: string }[]; nextCursor: string | null };
      pages.push(page.items.map((i) => i.title));
      cursor = page.nextCursor;
    } while (cursor !== null && pages.length < 10);
    expect(pages).toEqual([['day 5', 'day 4'], ['day 3', 'day 2'], ['day 1']]);

    for (const bad of [
      'status=closed',
      'type=virus',
      'severity=urgent',
      'assignee=not-a-uuid',
      'from=yesterday',
      'to=2001-13-01T00:00:00.000Z',
      'limit=0',
      'limit=201',
      'cursor=not-a-cursor',
    ]) {
      const response = await sut.http.get(`${API}/incidents?${bad}`).set(auditor);
      expect([bad, response.status]).toEqual([bad, 400]);
    }
  });
});
