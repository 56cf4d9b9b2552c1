import { DataSource } from 'typeorm';
import { ScratchDatabase } from '../src/database/cli/scratch-database';
import { openDirect } from './helpers/audit-db';
import { createCredential, CredentialMetadata, Headers } from './helpers/credential-fixtures';
import { serviceWithGrants } from './helpers/principals';
import { bearerFor, scratchMariadb, startApp, TestApp } from './helpers/test-app';

const API = '/api/v1';
const DAY_MS = 86_400_000;
const MISSING_ID = '2f1c7a52-3f0e-4f43-9f55-1f4a4c3f8b11';

interface PolicyBody {
  credentialId: string;
  policyId: string;
  source: 'credential' | 'pattern';
  pathPattern: string | null;
  enabled: boolean;
  interval: string | null;
  schedule: string | null;
  gracePeriod: string;
  rotator: Record<string, unknown>;
  nextRotationAt: string | null;
  rotationStatus: string;
  [field: string]: unknown;
}

interface PatternBody {
  id: string;
  pathPattern: string;
  interval: string | null;
  gracePeriod: string | null;
  [field: string]: unknown;
}

interface AuditItem {
  action: string;
  resource: { type: string | null; id: string | null };
  details: Record<string, unknown>;
}

describe('Rotation policies over HTTP (MariaDB)', () => {
  let database: ScratchDatabase;
  let db: DataSource;
  let sut: TestApp;
  let admin: Headers;
  let operator: Headers;
  let auditor: Headers;
  let viewer: Headers;

  beforeAll(async () => {
    database = await scratchMariadb();
    sut = await startApp(database, {
      env: { THROTTLE_LIMIT: '100000', LOGIN_THROTTLE_LIMIT: '100000' },
    });
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

  const putPolicy = (id: string, body: Record<string, unknown>, headers: Headers = admin) =>
    sut.http.put(`${API}/credentials/${id}/rotation`).set(headers).send(body);
  const putPattern = (body: Record<string, unknown>, headers: Headers = admin) =>
    sut.http.put(`${API}/rotation-policies`).set(headers).send(body);
  const metadata = async (id: string): Promise<CredentialMetadata> =>
    (await sut.http.get(`${API}/credentials/${id}`).set(admin).expect(200))
      .body as CredentialMetadata;
  const row = async (id: string) =>
    (
      await db.query<{ row_version: number; current_version: number; rotation_status: string }[]>(
        'SELECT row_version, current_version, rotation_status FROM credentials WHERE id = ?',
        [id],
      )
    )[0];
  const runCount = async () =>
    Number((await db.query<{ n: string }[]>('SELECT COUNT(*) AS n FROM rotation_runs'))[0].n);
  const auditEvents = async (action: string, resourceId: string): Promise<AuditItem[]> =>
    (
      await sut.http
        .get(`${API}/audit/events?action=${action}&resourceId=${resourceId}&outcome=success`)
        .set(admin)
        .expect(200)
    ).body.items as AuditItem[];

  /** `iso` lies `durationMs` after a moment between `before` and now (the database clock). */
  function expectDueAfter(iso: string | null, before: number, durationMs: number): void {
    expect(iso).not.toBeNull();
    const due = new Date(iso!).getTime();
    expect(due).toBeGreaterThanOrEqual(before + durationMs - 1000);
    expect(due).toBeLessThanOrEqual(Date.now() + durationMs + 1000);
  }

  describe("a credential's own policy", () => {
    it('should set, show and schedule it from now, without starting a rotation', async () => {
      const credential = await createCredential(sut, admin, { path: 'own/db/root' });
      const before = await row(credential.id);
      const started = Date.now();

      const response = await putPolicy(credential.id, {
        enabled: true,
        interval: 'P7D',
        gracePeriod: 'PT12H',
        rotator: { kind: 'generated' },
        generator: { format: 'password', length: 24, classes: ['lower', 'digits'] },
      }).expect(200);

      const body = response.body as PolicyBody;
      expect(body).toMatchObject({
        credentialId: credential.id,
        source: 'credential',
        pathPattern: null,
        enabled: true,
        interval: 'P7D',
        schedule: null,
        window: null,
        gracePeriod: 'PT12H',
        offset: null,
        rotator: { kind: 'generated' },
        generator: { format: 'password', length: 24, classes: ['lower', 'digits'] },
        rotationStatus: 'scheduled',
      });
      expectDueAfter(body.nextRotationAt, started, 7 * DAY_MS);
      const { body: read } = await sut.http
        .get(`${API}/credentials/${credential.id}/rotation`)
        .set(viewer)
        .expect(200);
      // warnings belong to the PUT that wrote the policy, not to the policy.
      const { warnings, ...stored } = body as PolicyBody & { warnings?: string[] };
      expect(warnings).toEqual([]);
      expect(read).toEqual(stored);
      expect(await metadata(credential.id)).toMatchObject({
        nextRotationAt: body.nextRotationAt,
        rotationStatus: 'scheduled',
        currentVersion: 1,
      });
      const after = await row(credential.id);
      expect(after.current_version).toBe(before.current_version);
      expect(after.row_version).toBe(before.row_version + 1);
      expect(await runCount()).toBe(0);
      const [event] = await auditEvents('rotation.policy.update', credential.id);
      expect(event.details).toMatchObject({
        path: 'own/db/root',
        policyId: body.policyId,
        created: true,
        interval: 'P7D',
        rotator: 'generated',
        generator: { format: 'password', length: 24 },
      });
    });

    it('should fill in the type defaults, and replace the policy on the next PUT', async () => {
      const credential = await createCredential(sut, admin, {
        path: 'own/api/key',
        type: 'api_key',
        secret: { apiKey: 'ak-own-api-key' },
      });
      const first = (await putPolicy(credential.id, { enabled: true, rotator: { kind: 'manual' } }))
        .body as PolicyBody;
      expect(first).toMatchObject({ interval: 'P90D', gracePeriod: 'PT24H', schedule: null });

      const started = Date.now();
      const second = (
        await putPolicy(credential.id, {
          enabled: true,
          schedule: '0 3 * * *',
          rotator: { kind: 'manual' },
        }).expect(200)
      ).body as PolicyBody;

      expect(second).toMatchObject({
        policyId: first.policyId,
        interval: null,
        schedule: '0 3 * * *',
        gracePeriod: 'PT24H',
      });
      const due = new Date(second.nextRotationAt!);
      expect(due.getUTCHours()).toBe(3);
      expect(due.getUTCMinutes()).toBe(0);
      expect(due.getTime()).toBeGreaterThan(started - 1000);
      expect(due.getTime()).toBeLessThanOrEqual(started + DAY_MS);
      const [latest] = await auditEvents('rotation.policy.update', credential.id);
      expect(latest.details).toMatchObject({ created: false, schedule: '0 3 * * *' });
    });

    it('should mark a disabled policy and schedule nothing', async () => {
      const credential = await createCredential(sut, admin, { path: 'own/disabled' });
      const body = (
        await putPolicy(credential.id, { enabled: false, rotator: { kind: 'manual' } }).expect(200)
      ).body as PolicyBody;

      expect(body).toMatchObject({
        enabled: false,
        nextRotationAt: null,
        rotationStatus: 'disabled',
      });
    });

    it.each([
      [
        'both interval and schedule',
        { interval: 'P1D', schedule: '0 3 * * *', rotator: { kind: 'manual' } },
        'schedule',
      ],
      [
        'a grace longer than the interval',
        { interval: 'P1D', gracePeriod: 'P2D', rotator: { kind: 'manual' } },
        'gracePeriod',
      ],
      ['an unknown rotator', { rotator: { kind: 'ldap' } }, 'rotator.kind'],
      [
        'a generator on the manual rotator',
        { rotator: { kind: 'manual' }, generator: { format: 'hex', length: 32 } },
        'generator',
      ],
      ['an unknown field', { rotator: { kind: 'manual' }, every: 'P1D' }, 'every'],
    ])('should refuse %s with a 400 and change nothing', async (_case, change, field) => {
      const credential = await createCredential(sut, admin, {
        path: `own/refused/${field.replace('.', '-').toLowerCase()}`,
      });

      const response = await putPolicy(credential.id, { enabled: true, ...change }).expect(400);

      expect(response.body.fields.map((f: { field: string }) => f.field)).toContain(field);
      expect((await row(credential.id)).rotation_status).toBe('none');
      await sut.http.get(`${API}/credentials/${credential.id}/rotation`).set(admin).expect(404);
    });

    it('should refuse a rotator that cannot rotate the credential type', async () => {
      const credential = await createCredential(sut, admin, {
        path: 'own/oauth',
        type: 'oauth',
        secret: { clientId: 'client', clientSecret: 'oauth-secret' },
      });

      const response = await putPolicy(credential.id, {
        enabled: true,
        rotator: { kind: 'generated' },
      }).expect(400);

      expect(response.body.fields).toEqual([
        {
          field: 'rotator.kind',
          errors: ['the generated rotator cannot rotate a oauth credential'],
        },
      ]);
    });

    it('should answer 404 with a clear message when no policy applies', async () => {
      const credential = await createCredential(sut, admin, { path: 'own/none' });

      const response = await sut.http
        .get(`${API}/credentials/${credential.id}/rotation`)
        .set(admin)
        .expect(404);

      expect(response.body.message).toMatch(/No rotation policy applies to this credential/);
      await sut.http.get(`${API}/credentials/${MISSING_ID}/rotation`).set(admin).expect(404);
    });

    it('should let only callers with rotate change it, and hide it from callers who may not read', async () => {
      const credential = await createCredential(sut, admin, { path: 'own/access/db' });
      const reader = await serviceWithGrants(sut, admin.authorization, [
        { pathPattern: 'own/access/*', capabilities: ['read'] },
      ]);
      const rotator = await serviceWithGrants(sut, admin.authorization, [
        { pathPattern: 'own/access/*', capabilities: ['read', 'rotate'] },
      ]);
      const stranger = await serviceWithGrants(sut, admin.authorization, [
        { pathPattern: 'elsewhere/*', capabilities: ['read', 'rotate'] },
      ]);
      const body = { enabled: true, rotator: { kind: 'manual' } };

      await putPolicy(credential.id, body, viewer).expect(403);
      await putPolicy(credential.id, body, auditor).expect(403);
      await putPolicy(credential.id, body, reader.headers).expect(403);
      await putPolicy(credential.id, body, stranger.headers).expect(404);
      await putPolicy(credential.id, body, rotator.headers).expect(200);
      await putPolicy(credential.id, body, operator).expect(200);
      await sut.http
        .get(`${API}/credentials/${credential.id}/rotation`)
        .set(stranger.headers)
        .expect(404);
      await sut.http
        .get(`${API}/credentials/${credential.id}/rotation`)
        .set(reader.headers)
        .expect(200);
      await sut.http.delete(`${API}/credentials/${credential.id}/rotation`).set(viewer).expect(403);
      await sut.http
        .delete(`${API}/credentials/${credential.id}/rotation`)
        .set(stranger.headers)
        .expect(404);
      await sut.http
        .delete(`${API}/credentials/${credential.id}/rotation`)
        .set(rotator.headers)
        .expect(204);
    });

    it('should delete it, fall back to a pattern policy, and answer 404 when there is none of its own', async () => {
      const credential = await createCredential(sut, admin, { path: 'fallback/db/root' });
      await putPolicy(credential.id, {
        enabled: true,
        interval: 'P1D',
        gracePeriod: 'PT1H',
        rotator: { kind: 'manual' },
      }).expect(200);
      const pattern = (
        await putPattern({
          pathPattern: 'fallback/**',
          enabled: true,
          interval: 'P14D',
          rotator: { kind: 'manual' },
        }).expect(200)
      ).body as PatternBody;
      // Its own policy still governs it.
      expect((await metadata(credential.id)).rotationStatus).toBe('scheduled');
      const ownDue = (await metadata(credential.id)).nextRotationAt as string;
      expect(new Date(ownDue).getTime()).toBeLessThan(Date.now() + 2 * DAY_MS);

      const started = Date.now();
      await sut.http
        .delete(`${API}/credentials/${credential.id}/rotation`)
        .set(operator)
        .expect(204);

      const { body } = await sut.http
        .get(`${API}/credentials/${credential.id}/rotation`)
        .set(admin)
        .expect(200);
      expect(body).toMatchObject({
        source: 'pattern',
        policyId: pattern.id,
        pathPattern: 'fallback/**',
        interval: 'P14D',
        gracePeriod: 'PT48H',
      });
      expectDueAfter((body as PolicyBody).nextRotationAt, started, 14 * DAY_MS);
      const response = await sut.http
        .delete(`${API}/credentials/${credential.id}/rotation`)
        .set(operator)
        .expect(404);
      expect(response.body.message).toMatch(/no rotation policy of its own/);
      const [event] = await auditEvents('rotation.policy.delete', credential.id);
      expect(event.details).toMatchObject({
        fallbackPolicyId: pattern.id,
        rotationStatus: 'scheduled',
      });

      await sut.http.delete(`${API}/rotation-policies/${pattern.id}`).set(admin).expect(204);
      expect(await metadata(credential.id)).toMatchObject({
        rotationStatus: 'none',
        nextRotationAt: null,
      });
    });

    it('should leave exactly one policy row after ten concurrent PUTs', async () => {
      const credential = await createCredential(sut, admin, { path: 'own/concurrent' });

      const responses = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          putPolicy(credential.id, {
            enabled: true,
            interval: `P${i + 1}D`,
            gracePeriod: 'PT1H',
            rotator: { kind: 'manual' },
          }),
        ),
      );

      expect(responses.map((r) => r.status)).toEqual(Array(10).fill(200));
      const rows = await db.query<{ id: string; rotate_every: string }[]>(
        'SELECT id, rotate_every FROM rotation_policies WHERE credential_id = ?',
        [credential.id],
      );
      expect(rows).toHaveLength(1);
      expect(new Set(responses.map((r) => (r.body as PolicyBody).policyId))).toEqual(
        new Set([rows[0].id]),
      );
      const { body } = await sut.http
        .get(`${API}/credentials/${credential.id}/rotation`)
        .set(admin)
        .expect(200);
      expect(body.interval).toBe(rows[0].rotate_every);
      expect(await auditEvents('rotation.policy.update', credential.id)).toHaveLength(10);
      expect(await runCount()).toBe(0);
    });
  });

  describe('path-pattern policies', () => {
    it('should schedule the credentials it governs, and only those', async () => {
      const governed = await createCredential(sut, admin, { path: 'pat/a/db' });
      const deep = await createCredential(sut, admin, {
        path: 'pat/b/c/key',
        type: 'api_key',
        secret: { apiKey: 'ak-pat-deep' },
      });
      const own = await createCredential(sut, admin, { path: 'pat/a/own' });
      const outside = await createCredential(sut, admin, { path: 'patx/a/db' });
      const ownBody = (
        await putPolicy(own.id, {
          enabled: true,
          interval: 'P1D',
          gracePeriod: 'PT1H',
          rotator: { kind: 'manual' },
        }).expect(200)
      ).body as PolicyBody;
      const versions = await Promise.all([governed, deep, own, outside].map((c) => row(c.id)));

      const started = Date.now();
      const response = await putPattern({
        pathPattern: 'pat/**',
        enabled: true,
        interval: 'P10D',
        gracePeriod: 'PT6H',
        rotator: { kind: 'generated' },
      }).expect(200);

      const pattern = response.body as PatternBody;
      expect(pattern).toMatchObject({
        pathPattern: 'pat/**',
        enabled: true,
        interval: 'P10D',
        schedule: null,
        gracePeriod: 'PT6H',
        rotator: { kind: 'generated' },
        generator: null,
      });
      for (const credential of [governed, deep]) {
        const read = await metadata(credential.id);
        expect(read.rotationStatus).toBe('scheduled');
        expectDueAfter(read.nextRotationAt as string, started, 10 * DAY_MS);
      }
      expect((await metadata(own.id)).nextRotationAt).toBe(ownBody.nextRotationAt);
      expect(await metadata(outside.id)).toMatchObject({
        rotationStatus: 'none',
        nextRotationAt: null,
      });
      const after = await Promise.all([governed, deep, own, outside].map((c) => row(c.id)));
      expect(after.map((r) => r.row_version - versions[after.indexOf(r)].row_version)).toEqual([
        1, 1, 0, 0,
      ]);
      expect(after.map((r) => r.current_version)).toEqual([1, 1, 1, 1]);
      expect(await runCount()).toBe(0);
      const [event] = await auditEvents('rotation.pattern_policy.update', pattern.id);
      expect(event.resource).toEqual({ type: 'rotation_policy', id: pattern.id });
      expect(event.details).toMatchObject({
        pathPattern: 'pat/**',
        created: true,
        rescheduled: 2,
        rotator: 'generated',
      });
    });

    it('should not apply to a credential its rotator cannot rotate', async () => {
      const oauth = await createCredential(sut, admin, {
        path: 'gen/oauth/app',
        type: 'oauth',
        secret: { clientId: 'client', clientSecret: 'gen-oauth-secret' },
      });
      await putPattern({
        pathPattern: 'gen/**',
        enabled: true,
        rotator: { kind: 'generated' },
      }).expect(200);

      expect((await metadata(oauth.id)).rotationStatus).toBe('none');
      await sut.http.get(`${API}/credentials/${oauth.id}/rotation`).set(admin).expect(404);
    });

    it('should schedule a credential created under it, or moved under it, and unschedule one moved away', async () => {
      await putPattern({
        pathPattern: 'move/in/*',
        enabled: true,
        interval: 'P3D',
        rotator: { kind: 'manual' },
      }).expect(200);

      const started = Date.now();
      const created = await createCredential(sut, admin, { path: 'move/in/new' });
      expect(created.rotationStatus).toBe('scheduled');
      expectDueAfter(created.nextRotationAt as string, started, 3 * DAY_MS);
      expect(await metadata(created.id)).toMatchObject({
        rotationStatus: 'scheduled',
        nextRotationAt: created.nextRotationAt,
        updatedAt: created.updatedAt,
      });

      const outside = await createCredential(sut, admin, { path: 'move/out/db' });
      expect(outside.rotationStatus).toBe('none');
      const moved = await sut.http
        .patch(`${API}/credentials/${outside.id}`)
        .set(admin)
        .send({ path: 'move/in/db' })
        .expect(200);
      expect(moved.body).toMatchObject({ path: 'move/in/db', rotationStatus: 'scheduled' });
      expectDueAfter(moved.body.nextRotationAt as string, started, 3 * DAY_MS);

      // A rename under the same pattern keeps the schedule.
      const renamed = await sut.http
        .patch(`${API}/credentials/${outside.id}`)
        .set(admin)
        .send({ path: 'move/in/db2' })
        .expect(200);
      expect(renamed.body.nextRotationAt).toBe(moved.body.nextRotationAt);

      const away = await sut.http
        .patch(`${API}/credentials/${outside.id}`)
        .set(admin)
        .send({ path: 'move/out/db' })
        .expect(200);
      expect(away.body).toMatchObject({ rotationStatus: 'none', nextRotationAt: null });
      expect(await runCount()).toBe(0);
    });

    it('should let the most specific pattern govern, and give credentials back when it is deleted', async () => {
      const credential = await createCredential(sut, admin, { path: 'nest/prod/db' });
      await putPattern({
        pathPattern: 'nest/**',
        enabled: true,
        interval: 'P20D',
        rotator: { kind: 'manual' },
      }).expect(200);
      const specific = (
        await putPattern({
          pathPattern: 'nest/prod/*',
          enabled: false,
          rotator: { kind: 'manual' },
        }).expect(200)
      ).body as PatternBody;
      expect(await metadata(credential.id)).toMatchObject({
        rotationStatus: 'disabled',
        nextRotationAt: null,
      });
      const { body } = await sut.http
        .get(`${API}/credentials/${credential.id}/rotation`)
        .set(admin)
        .expect(200);
      expect(body).toMatchObject({ source: 'pattern', pathPattern: 'nest/prod/*', enabled: false });

      const started = Date.now();
      await sut.http.delete(`${API}/rotation-policies/${specific.id}`).set(admin).expect(204);

      const read = await metadata(credential.id);
      expect(read.rotationStatus).toBe('scheduled');
      expectDueAfter(read.nextRotationAt as string, started, 20 * DAY_MS);
      await sut.http.get(`${API}/rotation-policies/${specific.id}`).set(admin).expect(404);
      await sut.http.delete(`${API}/rotation-policies/${specific.id}`).set(admin).expect(404);
      const [event] = await auditEvents('rotation.pattern_policy.delete', specific.id);
      expect(event.details).toMatchObject({ pathPattern: 'nest/prod/*', rescheduled: 1 });
    });

    it('should leave a credential in a run alone', async () => {
      const credential = await createCredential(sut, admin, { path: 'busy/db' });
      await db.query(
        "UPDATE credentials SET rotation_status = 'rotating', next_rotation_at = NULL WHERE id = ?",
        [credential.id],
      );
      const before = await row(credential.id);

      await putPattern({
        pathPattern: 'busy/*',
        enabled: true,
        rotator: { kind: 'manual' },
      }).expect(200);

      expect(await row(credential.id)).toEqual(before);
      expect(await metadata(credential.id)).toMatchObject({
        rotationStatus: 'rotating',
        nextRotationAt: null,
      });
    });

    it('should reschedule every governed credential, across batches', async () => {
      // More than two batches of 500, straight into the table (MariaDB's sequence engine).
      const count = 1203;
      await db.query(
        'INSERT INTO credentials (id, path, name, type, status, current_version, last_version) ' +
          "SELECT UUID(), CONCAT('bulk/c', seq), 'bulk', 'password', 'active', 1, 1 FROM seq_1_to_1203",
      );

      const started = Date.now();
      const pattern = (
        await putPattern({
          pathPattern: 'bulk/*',
          enabled: true,
          interval: 'P5D',
          rotator: { kind: 'manual' },
        }).expect(200)
      ).body as PatternBody;

      const [summary] = await db.query<{ n: string; first: Date; last: Date }[]>(
        "SELECT COUNT(*) AS n, MIN(next_rotation_at) AS first, MAX(next_rotation_at) AS last FROM credentials WHERE path LIKE 'bulk/%' AND rotation_status = 'scheduled'",
      );
      expect(Number(summary.n)).toBe(count);
      expectDueAfter(summary.first.toISOString(), started, 5 * DAY_MS);
      expect(summary.last).toEqual(summary.first);
      const [event] = await auditEvents('rotation.pattern_policy.update', pattern.id);
      expect(event.details.rescheduled).toBe(count);
    });

    it('should list, page, read and delete them, for the roles allowed', async () => {
      await putPattern({
        pathPattern: 'list/a/*',
        enabled: true,
        rotator: { kind: 'manual' },
      }).expect(200);
      await putPattern({
        pathPattern: 'list/b/*',
        enabled: true,
        rotator: { kind: 'manual' },
      }).expect(200);
      await putPattern({
        pathPattern: 'list/c/*',
        enabled: true,
        rotator: { kind: 'manual' },
      }).expect(200);
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const response = await sut.http
          .get(`${API}/rotation-policies`)
          .query({ limit: 2, ...(cursor ? { cursor } : {}) })
          .set(auditor)
          .expect(200);
        seen.push(...(response.body.items as PatternBody[]).map((p) => p.pathPattern));
        cursor = response.body.nextCursor as string | null;
      } while (cursor);
      expect(seen.filter((p) => p.startsWith('list/'))).toEqual([
        'list/a/*',
        'list/b/*',
        'list/c/*',
      ]);
      expect([...seen].sort()).toEqual(seen);
      expect(seen).not.toContain(null);

      const { body: page } = await sut.http
        .get(`${API}/rotation-policies`)
        .set(operator)
        .expect(200);
      const policy = (page.items as PatternBody[]).find((p) => p.pathPattern === 'list/b/*')!;
      await sut.http.get(`${API}/rotation-policies/${policy.id}`).set(operator).expect(200);
      await sut.http.get(`${API}/rotation-policies`).set(viewer).expect(403);
      await sut.http.get(`${API}/rotation-policies/${policy.id}`).set(viewer).expect(403);
      await putPattern(
        { pathPattern: 'list/d/*', enabled: true, rotator: { kind: 'manual' } },
        operator,
      ).expect(403);
      await sut.http.delete(`${API}/rotation-policies/${policy.id}`).set(operator).expect(403);
      await sut.http.get(`${API}/rotation-policies?cursor=garbage`).set(admin).expect(400);

      const replaced = (
        await putPattern({
          pathPattern: 'list/b/*',
          enabled: false,
          schedule: '0 4 * * mon',
          rotator: { kind: 'manual' },
        }).expect(200)
      ).body as PatternBody;
      expect(replaced).toMatchObject({
        id: policy.id,
        enabled: false,
        schedule: '0 4 * * mon',
        interval: null,
      });
      await sut.http.delete(`${API}/rotation-policies/${policy.id}`).set(admin).expect(204);
      await sut.http.get(`${API}/rotation-policies/${policy.id}`).set(admin).expect(404);
    });

    it('should refuse a pattern policy whose default grace would not fit its interval', async () => {
      const response = await putPattern({
        pathPattern: 'refused/**',
        enabled: true,
        interval: 'PT12H',
        rotator: { kind: 'manual' },
      }).expect(400);

      expect(response.body.fields[0]).toEqual({
        field: 'gracePeriod',
        errors: [expect.stringMatching(/default gracePeriod of password credentials \(PT48H\)/)],
      });
    });
  });

  describe('the credential list', () => {
    it('should filter by rotationDueBefore and rotationStatus, through the next-rotation index', async () => {
      const soon = await createCredential(sut, admin, { path: 'due/soon' });
      const later = await createCredential(sut, admin, { path: 'due/later' });
      const failing = await createCredential(sut, admin, { path: 'due/failing' });
      await putPolicy(soon.id, {
        enabled: true,
        interval: 'PT1H',
        gracePeriod: 'PT1M',
        rotator: { kind: 'manual' },
      }).expect(200);
      await putPolicy(later.id, {
        enabled: true,
        interval: 'P300D',
        rotator: { kind: 'manual' },
      }).expect(200);
      await putPolicy(failing.id, {
        enabled: true,
        interval: 'PT2H',
        gracePeriod: 'PT1M',
        rotator: { kind: 'manual' },
      }).expect(200);
      await db.query("UPDATE credentials SET rotation_status = 'failed' WHERE id = ?", [
        failing.id,
      ]);

      const dueBefore = new Date(Date.now() + 3 * 3600_000).toISOString();
      const due = await sut.http
        .get(`${API}/credentials`)
        .query({ pathPrefix: 'due/', rotationDueBefore: dueBefore })
        .set(viewer)
        .expect(200);
      expect((due.body.items as CredentialMetadata[]).map((c) => c.path)).toEqual([
        'due/failing',
        'due/soon',
      ]);
      expect(due.body.total).toBe(2);

      const failed = await sut.http
        .get(`${API}/credentials`)
        .query({ pathPrefix: 'due/', rotationStatus: 'failed' })
        .set(viewer)
        .expect(200);
      expect((failed.body.items as CredentialMetadata[]).map((c) => c.path)).toEqual([
        'due/failing',
      ]);

      const both = await sut.http
        .get(`${API}/credentials`)
        .query({ rotationDueBefore: dueBefore, rotationStatus: 'scheduled', pathPrefix: 'due/' })
        .set(viewer)
        .expect(200);
      expect((both.body.items as CredentialMetadata[]).map((c) => c.path)).toEqual(['due/soon']);

      await sut.http.get(`${API}/credentials?rotationDueBefore=soon`).set(viewer).expect(400);
      await sut.http.get(`${API}/credentials?rotationStatus=due`).set(viewer).expect(400);

      await db.query('ANALYZE TABLE credentials');
      const plan = await db.query<{ key: string | null }[]>(
        "EXPLAIN SELECT c.id FROM credentials c WHERE c.status = 'active' AND c.next_rotation_at <= ? ORDER BY c.path ASC LIMIT 51",
        [new Date(dueBefore)],
      );
      expect(plan.map((step) => step.key)).toEqual(['idx_credentials_next_rotation']);
    });
  });

  describe('after every change above', () => {
    it('should never have started a rotation run', async () => {
      expect(await runCount()).toBe(0);
    });
  });
});
