import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { createScratchSqlite, ScratchDatabase } from '../src/database/cli/scratch-database';
import { AdoptionWatch } from '../src/rotation/adoption/adoption-watch';
import { GraceSweeper } from '../src/rotation/sweeper/grace-sweeper';
import { createCredential, Headers } from './helpers/credential-fixtures';
import { serviceWithGrants } from './helpers/principals';
import { until } from './helpers/rotation-checks';
import { bearerFor, randomMasterKey, scratchMariadb, startApp, TestApp } from './helpers/test-app';

const API = '/api/v1';
const ENV = {
  JWT_SECRET: randomBytes(48).toString('base64'),
  THROTTLE_LIMIT: '100000',
  AUDIT_SINKS: 'none',
  // The tests drive the adoption watch and the sweep themselves; rotations asked for still run.
  ROTATION_SCHEDULER_ENABLED: 'false',
};

interface Service {
  id: string;
  headers: Record<string, string>;
}

interface Report {
  runId: string;
  version: number;
  consumers: {
    principalType: string;
    principalId: string;
    name: string | null;
    lastRevealedVersion: number;
    lastRevealedAt: string;
    adopted: boolean;
  }[];
  adopted: number;
  pending: number;
  percent: number | null;
}

/** Rotates and waits for the run to succeed; returns its id. */
async function rotate(sut: TestApp, admin: Headers, id: string): Promise<string> {
  const accepted = await sut.http
    .post(`${API}/credentials/${id}/rotate`)
    .set(admin)
    .send({ reason: 'adoption test' })
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
  return runId;
}

/** A password credential under a generated policy with the given grace. */
async function rotatable(
  sut: TestApp,
  admin: Headers,
  path: string,
  policy: Record<string, unknown> = {},
): Promise<string> {
  const { id } = await createCredential(sut, admin, { path });
  await sut.http
    .put(`${API}/credentials/${id}/rotation`)
    .set(admin)
    .send({
      enabled: true,
      interval: 'P30D',
      gracePeriod: 'PT2H',
      rotator: { kind: 'generated' },
      ...policy,
    })
    .expect(200);
  return id;
}

describe('Rotation adoption (MariaDB, two instances)', () => {
  let database: ScratchDatabase;
  let a: TestApp;
  let b: TestApp;
  let db: DataSource;
  let admin: Headers;
  let auditor: Headers;
  let billing: Service;
  let reports: Service;

  beforeAll(async () => {
    database = await scratchMariadb();
    const env = { ...ENV, CUSTOS_MASTER_KEY: randomMasterKey() };
    a = await startApp(database, { env });
    b = await startApp(database, { env });
    db = a.app.get(DataSource);
    admin = { authorization: await bearerFor(a, 'admin') };
    auditor = { authorization: await bearerFor(a, 'auditor') };
    const grants = [{ pathPattern: 'acme/prod/*', capabilities: ['read', 'reveal'] }];
    billing = await serviceWithGrants(a, admin.authorization, grants, 'billing');
    reports = await serviceWithGrants(a, admin.authorization, grants, 'reports');
  }, 60_000);

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await database?.drop();
  });

  const byPath = (service: Service, path: string) =>
    a.http.get(`${API}/secrets/${path}`).set(service.headers).expect(200);
  const byId = (service: Service, id: string, version?: number) =>
    b.http
      .post(`${API}/credentials/${id}/reveal`)
      .set(service.headers)
      .send(version === undefined ? {} : { version });
  const adoptionOf = async (id: string, runId: string) =>
    (
      await a.http
        .get(`${API}/credentials/${id}/rotations/${runId}/adoption`)
        .set(auditor)
        .expect(200)
    ).body as Report;
  const watchBoth = () =>
    Promise.all([a.app.get(AdoptionWatch).watch(), b.app.get(AdoptionWatch).watch()]);

  it('should count two services that revealed it, one of which revealed the new version: 50 %', async () => {
    const id = await rotatable(a, admin, 'acme/prod/db');
    await byPath(billing, 'acme/prod/db');
    await byId(reports, id).expect(200);
    const runId = await rotate(a, admin, id);
    const revealed = await byPath(billing, 'acme/prod/db');
    expect((revealed.body as { version: number }).version).toBe(2);
    // A newcomer never had the old value: not a consumer of this rotation.
    const newcomer = await serviceWithGrants(
      a,
      admin.authorization,
      [{ pathPattern: 'acme/prod/*', capabilities: ['read', 'reveal'] }],
      'newcomer',
    );
    await byPath(newcomer, 'acme/prod/db');

    const report = await adoptionOf(id, runId);

    expect(report).toMatchObject({ runId, version: 2, adopted: 1, pending: 1, percent: 50 });
    expect(report.consumers).toEqual(
      expect.arrayContaining([
        {
          principalType: 'service_account',
          principalId: billing.id,
          name: 'billing',
          lastRevealedVersion: 2,
          lastRevealedAt: expect.any(String),
          adopted: true,
        },
        {
          principalType: 'service_account',
          principalId: reports.id,
          name: 'reports',
          lastRevealedVersion: 1,
          lastRevealedAt: expect.any(String),
          adopted: false,
        },
      ]),
    );
    expect(report.consumers).toHaveLength(2);

    // Without endGraceOnFullAdoption the grace runs its course, adopted or not.
    await byId(reports, id).expect(200);
    expect(await adoptionOf(id, runId)).toMatchObject({ adopted: 2, pending: 0, percent: 100 });
    await watchBoth();
    await byId(billing, id, 1).expect(200);
  });

  it('should refuse the report to viewers and services, and to a run of another credential', async () => {
    const id = await rotatable(a, admin, 'acme/prod/other');
    const runId = await rotate(a, admin, id);
    const url = `${API}/credentials/${id}/rotations/${runId}/adoption`;
    const viewer = { authorization: await bearerFor(a, 'viewer') };

    await a.http.get(url).set(viewer).expect(403);
    await a.http.get(url).set(billing.headers).expect(403);
    await a.http.get(url).set(admin).expect(200);
    const otherId = await rotatable(a, admin, 'acme/prod/third');
    await a.http
      .get(`${API}/credentials/${otherId}/rotations/${runId}/adoption`)
      .set(admin)
      .expect(404);
  });

  it('should end the grace once every consumer has the new version, when the policy says so', async () => {
    const id = await rotatable(a, admin, 'acme/prod/api', { endGraceOnFullAdoption: true });
    const policy = await a.http.get(`${API}/credentials/${id}/rotation`).set(admin).expect(200);
    expect(policy.body).toMatchObject({ endGraceOnFullAdoption: true });
    await byPath(billing, 'acme/prod/api');
    await byId(reports, id).expect(200);
    const runId = await rotate(b, admin, id);

    await byPath(billing, 'acme/prod/api');
    await watchBoth();
    // One consumer still on version 1: it keeps working.
    await byId(reports, id, 1).expect(200);

    await byId(reports, id).expect(200);
    const passes = await watchBoth();
    expect(passes.reduce((sum, pass) => sum + pass.graceEnded, 0)).toBe(1);
    await a.app.get(GraceSweeper).sweep();

    await byId(reports, id, 1).expect(409);
    const states = await db.query<{ version: number; state: string }[]>(
      'SELECT version, state FROM credential_versions WHERE credential_id = ? ORDER BY version',
      [id],
    );
    expect(states.map((row) => [Number(row.version), row.state])).toEqual([
      [1, 'revoked'],
      [2, 'current'],
    ]);
    const audit = await db.query<{ action: string; details: string }[]>(
      "SELECT action, details FROM audit_events WHERE resource_id = ? AND action IN ('rotation.adoption.grace_ended', 'credential.version.revoked') ORDER BY seq",
      [id],
    );
    expect(audit.map((row) => row.action)).toEqual([
      'rotation.adoption.grace_ended',
      'credential.version.revoked',
    ]);
    expect(JSON.parse(audit[0].details)).toMatchObject({
      runId,
      version: 2,
      previousVersion: 1,
      consumers: 2,
      adopted: 2,
      percent: 100,
    });
  });

  it('should end the grace early under a path-pattern policy that says so', async () => {
    const put = await a.http
      .put(`${API}/rotation-policies`)
      .set(admin)
      .send({
        pathPattern: 'acme/flagged/**',
        enabled: true,
        interval: 'P30D',
        gracePeriod: 'PT2H',
        rotator: { kind: 'generated' },
        endGraceOnFullAdoption: true,
      })
      .expect(200);
    expect(put.body).toMatchObject({ endGraceOnFullAdoption: true });
    const { id } = await createCredential(a, admin, { path: 'acme/flagged/db' });
    const flagged = await serviceWithGrants(a, admin.authorization, [
      { pathPattern: 'acme/flagged/**', capabilities: ['read', 'reveal'] },
    ]);
    await a.http.get(`${API}/secrets/acme/flagged/db`).set(flagged.headers).expect(200);
    await rotate(a, admin, id);
    await a.http.get(`${API}/secrets/acme/flagged/db`).set(flagged.headers).expect(200);

    const passes = await watchBoth();

    expect(passes.reduce((sum, pass) => sum + pass.graceEnded, 0)).toBe(1);
    await b.app.get(GraceSweeper).sweep();
    await b.http
      .post(`${API}/credentials/${id}/reveal`)
      .set(flagged.headers)
      .send({ version: 1 })
      .expect(409);
  });

  it('should raise rotation.adoption_lagging once when the grace is about to end with consumers behind', async () => {
    const id = await rotatable(a, admin, 'acme/prod/queue');
    await byPath(billing, 'acme/prod/queue');
    await byPath(reports, 'acme/prod/queue');
    const runId = await rotate(a, admin, id);
    await byPath(billing, 'acme/prod/queue');

    // Two hours of grace left: more than ROTATION_ADOPTION_LAG_WARN (PT1H), no warning yet.
    await watchBoth();
    const lagging = () =>
      db.query<{ payload: string; path: string }[]>(
        "SELECT payload, path FROM event_outbox WHERE type = 'rotation.adoption_lagging' AND resource_id = ?",
        [id],
      );
    expect(await lagging()).toEqual([]);

    await db.query(
      "UPDATE credential_versions SET grace_until = UTC_TIMESTAMP(3) + INTERVAL 30 MINUTE WHERE credential_id = ? AND state = 'previous'",
      [id],
    );
    const passes = [...(await watchBoth()), ...(await watchBoth())];

    expect(passes.reduce((sum, pass) => sum + pass.warned, 0)).toBe(1);
    const events = await lagging();
    expect(events).toHaveLength(1);
    expect(events[0].path).toBe('acme/prod/queue');
    expect(JSON.parse(events[0].payload)).toMatchObject({
      runId,
      credentialId: id,
      version: 2,
      previousVersion: 1,
      consumers: 2,
      adopted: 1,
      pending: 1,
      percent: 50,
      graceUntil: expect.any(String),
    });
    const audit = await db.query<{ details: string }[]>(
      "SELECT details FROM audit_events WHERE resource_id = ? AND action = 'rotation.adoption_lagging'",
      [id],
    );
    expect(audit).toHaveLength(1);
    expect(JSON.parse(audit[0].details).pendingConsumers).toEqual([
      { principalType: 'service_account', principalId: reports.id },
    ]);

    const metrics = await a.http.get('/metrics').expect(200);
    expect(metrics.text).toMatch(/^custos_rotation_adoption_credentials\{state="pending"\} [1-9]/m);
    expect(metrics.text).toMatch(/^custos_rotation_adoption_lowest_percent 50$/m);
  });
});

describe('Rotation adoption on the embedded SQLite default', () => {
  let database: ScratchDatabase;
  let sut: TestApp;

  beforeAll(async () => {
    database = createScratchSqlite();
    sut = await startApp(database, { env: ENV });
  });

  afterAll(async () => {
    await sut?.close();
    await database?.drop();
  });

  it('should report full adoption and end the grace when the policy says so', async () => {
    const admin = { authorization: await bearerFor(sut, 'admin') };
    const service = await serviceWithGrants(sut, admin.authorization, [
      { pathPattern: 'acme/**', capabilities: ['read', 'reveal'] },
    ]);
    const id = await rotatable(sut, admin, 'acme/prod/db', { endGraceOnFullAdoption: true });
    await sut.http.get(`${API}/secrets/acme/prod/db`).set(service.headers).expect(200);
    const runId = await rotate(sut, admin, id);
    await sut.http.get(`${API}/secrets/acme/prod/db`).set(service.headers).expect(200);

    const report = await sut.http
      .get(`${API}/credentials/${id}/rotations/${runId}/adoption`)
      .set(admin)
      .expect(200);
    expect(report.body).toMatchObject({ version: 2, adopted: 1, pending: 0, percent: 100 });

    expect(await sut.app.get(AdoptionWatch).watch()).toEqual({ graceEnded: 1, warned: 0 });
    await sut.app.get(GraceSweeper).sweep();
    await sut.http
      .post(`${API}/credentials/${id}/reveal`)
      .set(service.headers)
      .send({ version: 1 })
      .expect(409);
  });
});
