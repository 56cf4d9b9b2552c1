import { DataSource } from 'typeorm';
import { ScratchDatabase } from '../src/database/cli/scratch-database';
import { MariadbRotator } from '../src/rotation/rotators/mariadb.rotator';
import { VersionRetirer } from '../src/rotation/sweeper/version-retirer';
import { openDirect } from './helpers/audit-db';
import { createCredential, Headers } from './helpers/credential-fixtures';
import { canLogin, DbLogin, targetServer, TestUsers } from './helpers/mariadb-users';
import { serviceWithGrants } from './helpers/principals';
import { until } from './helpers/rotation-checks';
import { bearerFor, scratchMariadb, startApp, TestApp } from './helpers/test-app';

const API = '/api/v1';
// A long backoff: a failed retirement must still be backing off when a test looks again.
// The test server is on this machine: the outbound guard lets loopback through for tests only.
const ENV = {
  THROTTLE_LIMIT: '100000',
  ROTATION_TICK: 'PT1S',
  ROTATION_RETRY_BACKOFF: 'PT30S',
  CUSTOS_OUTBOUND_ALLOW_LOOPBACK: 'true',
};
const ADMIN_GRANTS = ['CREATE USER ON *.*', 'SELECT ON mysql.user'];

interface Run {
  id: string;
  status: string;
  step: string;
  attempt: number;
  error: string | null;
  notes: string | null;
  graceSeconds: number;
  pendingVersion: number | null;
}

/**
 * The mariadb rotator against real users it creates on the test server, over HTTP: two users
 * taking turns with the old one working through its grace and locked after, single-user with no
 * grace, a hostile password, and failures that change nothing.
 */
describe('mariadb rotator (MariaDB target and store)', () => {
  let database: ScratchDatabase;
  let db: DataSource;
  let sut: TestApp;
  let admin: Headers;
  let viewer: Headers;
  const users = new TestUsers();
  let adminLogin: DbLogin;
  let adminCredentialId: string;
  const { host, port } = targetServer();

  beforeAll(async () => {
    database = await scratchMariadb();
    sut = await startApp(database, { env: ENV });
    db = await openDirect(database);
    admin = { authorization: await bearerFor(sut, 'admin') };
    viewer = { authorization: await bearerFor(sut, 'viewer') };
    adminLogin = await users.create('adm', ADMIN_GRANTS);
    adminCredentialId = (
      await createCredential(sut, admin, {
        path: 'db/admin',
        username: adminLogin.user,
        secret: { password: adminLogin.password },
      })
    ).id;
  });

  afterAll(async () => {
    await sut?.close();
    await db?.destroy();
    await database?.drop();
    await users.drop();
  });

  afterEach(() => jest.restoreAllMocks());

  /** Two fresh users with the same grants, and a credential using the first. */
  async function pair(name: string): Promise<{ id: string; a: DbLogin; b: DbLogin }> {
    const a = await users.create(`${name}_a`, ['USAGE ON *.*']);
    const b = await users.create(`${name}_b`, ['USAGE ON *.*']);
    const { id } = await createCredential(sut, admin, {
      path: `db/${name}`,
      username: a.user,
      secret: { password: a.password },
    });
    return { id, a, b };
  }

  function settings(extra: Record<string, unknown> = {}): Record<string, unknown> {
    return { kind: 'mariadb', adminCredentialId, host, port, ...extra };
  }

  function putPolicy(id: string, rotator: Record<string, unknown>, grace = 'PT2S', as = admin) {
    return sut.http
      .put(`${API}/credentials/${id}/rotation`)
      .set(as)
      .send({ enabled: true, interval: 'P30D', gracePeriod: grace, rotator });
  }

  async function rotate(id: string, body: Record<string, unknown> = {}): Promise<Run> {
    const response = await sut.http
      .post(`${API}/credentials/${id}/rotate`)
      .set(admin)
      .send(body)
      .expect(202);
    const runId = (response.body as { runId: string }).runId;
    return until(async () => {
      const run = (await sut.http.get(`${API}/rotations/${runId}`).set(admin).expect(200))
        .body as Run;
      return run.status === 'running' ? undefined : run;
    });
  }

  async function revealed(id: string): Promise<{ version: number; password: string }> {
    const response = await sut.http
      .post(`${API}/credentials/${id}/reveal`)
      .set(admin)
      .send({ reason: 'test' })
      .expect(200);
    const body = response.body as { version: number; secret: { password: string } };
    return { version: body.version, password: body.secret.password };
  }

  /** What a service reads by path: the current password and the user it goes with. */
  async function revealedByPath(
    path: string,
    as: Headers,
  ): Promise<{ version: number; username: string; password: string }> {
    const response = await sut.http.get(`${API}/secrets/${path}`).set(as).expect(200);
    const body = response.body as {
      version: number;
      username: string;
      secret: { password: string };
    };
    return { version: body.version, username: body.username, password: body.secret.password };
  }

  async function usernameOf(id: string): Promise<string> {
    const response = await sut.http.get(`${API}/credentials/${id}`).set(admin).expect(200);
    return (response.body as { username: string }).username;
  }

  async function states(id: string): Promise<Record<number, string>> {
    const rows = await db.query<{ version: number; state: string }[]>(
      'SELECT version, state FROM credential_versions WHERE credential_id = ? ORDER BY version',
      [id],
    );
    return Object.fromEntries(rows.map((r) => [r.version, r.state]));
  }

  async function auditDetails(
    resourceId: string,
    action: string,
  ): Promise<Record<string, unknown>[]> {
    const rows = await db.query<{ details: string; actor_type: string }[]>(
      'SELECT details, actor_type FROM audit_events WHERE resource_id = ? AND action = ? ORDER BY seq',
      [resourceId, action],
    );
    return rows.map((r) => ({
      actor: r.actor_type,
      ...(JSON.parse(r.details) as Record<string, unknown>),
    }));
  }

  /** A pass of the retirer (other credentials' versions may be retired by it too). */
  const retire = () => sut.app.get(VersionRetirer).retireDue();

  /** The versions of a credential the retirer has dealt with, from the audit log. */
  async function retiredVersions(id: string): Promise<number[]> {
    return (await auditDetails(id, 'rotation.retired')).map(
      (d) => (d as { version: number }).version,
    );
  }
  const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  describe('alternating users', () => {
    let id: string;
    let a: DbLogin;
    let b: DbLogin;
    let reader: { headers: Headers };

    beforeAll(async () => {
      ({ id, a, b } = await pair('alt'));
      reader = await serviceWithGrants(sut, admin.authorization, [
        { pathPattern: 'db/alt', capabilities: ['read', 'reveal'] },
      ]);
      const policy = await putPolicy(id, settings({ users: [a.user, b.user] })).expect(200);
      expect(policy.body).toMatchObject({ gracePeriod: 'PT2S', warnings: [] });
    });

    it('should switch to the other user, keeping the old one working through the grace', async () => {
      const run = await rotate(id);

      // Read within the grace (PT2S): the old version is still revealable. A service that took the
      // user from the metadata and the password from a reveal, in two requests, could pair them
      // wrongly across the switch: each reveal answers the user its password belongs to.
      const byPath = await revealedByPath('db/alt', reader.headers);
      const previous = await sut.http
        .post(`${API}/credentials/${id}/reveal`)
        .set(reader.headers)
        .send({ version: 1 })
        .expect(200);
      expect(byPath).toMatchObject({ version: 2, username: b.user });
      expect(await canLogin({ user: byPath.username, password: byPath.password })).toBe(true);
      expect(previous.body).toMatchObject({
        version: 1,
        state: 'previous',
        username: a.user,
        secret: { password: a.password },
      });
      expect(run).toMatchObject({ status: 'succeeded', attempt: 1, pendingVersion: 2 });
      expect(run.notes).toContain(`${b.user} is in service now`);
      expect(await usernameOf(id)).toBe(b.user);
      const current = await revealed(id);
      expect(current.version).toBe(2);
      expect(await canLogin({ user: b.user, password: current.password })).toBe(true);
      expect(await canLogin(a)).toBe(true);
      expect(await canLogin(b)).toBe(false);
      const reads = await auditDetails(adminCredentialId, 'credential.reveal');
      expect(reads).toContainEqual(
        expect.objectContaining({ actor: 'system', via: 'rotator', runId: run.id }),
      );
    });

    it('should lock the old user once its grace has ended, and only that one', async () => {
      const current = await revealed(id);
      await retire();
      expect(await retiredVersions(id)).toEqual([]);
      await pause(2_200);

      await retire();

      expect(await canLogin(a)).toBe(false);
      expect(await users.isLocked(a.user)).toBe(true);
      expect(await canLogin({ user: b.user, password: current.password })).toBe(true);
      expect(await auditDetails(id, 'rotation.retired')).toEqual([
        expect.objectContaining({
          actor: 'system',
          version: 1,
          account: a.user,
          rotator: 'mariadb',
        }),
      ]);
      await retire();
      expect(await retiredVersions(id)).toEqual([1]);
    });

    it('should unlock the first user when it takes its turn again', async () => {
      const before = await revealed(id);

      const run = await rotate(id);

      expect(run).toMatchObject({ status: 'succeeded', pendingVersion: 3 });
      expect(await usernameOf(id)).toBe(a.user);
      const current = await revealed(id);
      expect(await users.isLocked(a.user)).toBe(false);
      expect(await canLogin({ user: a.user, password: current.password })).toBe(true);
      expect(await canLogin({ user: b.user, password: before.password })).toBe(true);
      await pause(2_200);
      await retire();
      expect(await retiredVersions(id)).toEqual([1, 2]);
      expect(await canLogin({ user: b.user, password: before.password })).toBe(false);
      expect(await canLogin({ user: a.user, password: current.password })).toBe(true);
    });

    it('should set a password of quotes and backslashes exactly', async () => {
      const hostile = `it's "q"\\b\\\\'x\\`;
      jest
        .spyOn(sut.app.get(MariadbRotator), 'create')
        .mockResolvedValueOnce({ password: hostile });

      const run = await rotate(id);

      expect(run).toMatchObject({ status: 'succeeded' });
      expect(await revealed(id)).toMatchObject({ password: hostile });
      expect(await canLogin({ user: b.user, password: hostile })).toBe(true);
    });
  });

  it('should revoke and lock the old user at once in an emergency', async () => {
    const { id, a, b } = await pair('emergency');
    await putPolicy(id, settings({ users: [a.user, b.user] }), 'PT1H').expect(200);

    const run = await rotate(id, { emergency: true, reason: 'leaked' });

    expect(run).toMatchObject({ status: 'succeeded', graceSeconds: 0 });
    expect(await states(id)).toEqual({ 1: 'revoked', 2: 'current' });
    await retire();
    expect(await retiredVersions(id)).toEqual([1]);
    expect(await canLogin(a)).toBe(false);
    expect(await canLogin({ user: b.user, password: (await revealed(id)).password })).toBe(true);
  });

  it('should never lock a user that is in service again when its old version is retired late', async () => {
    const { id, a, b } = await pair('late');
    await putPolicy(id, settings({ users: [a.user, b.user] }), 'PT1H').expect(200);
    await rotate(id, { emergency: true });
    // Version 1 (a) is revoked but not yet retired when a takes its turn again.
    const run = await rotate(id, { emergency: true });
    expect(run).toMatchObject({ status: 'succeeded', pendingVersion: 3 });
    expect(await usernameOf(id)).toBe(a.user);

    await retire();

    expect(await canLogin({ user: a.user, password: (await revealed(id)).password })).toBe(true);
    expect(await users.isLocked(a.user)).toBe(false);
    expect(await users.isLocked(b.user)).toBe(true);
    expect(await auditDetails(id, 'rotation.retired')).toEqual([
      expect.objectContaining({ version: 1, account: a.user, skipped: expect.any(String) }),
      expect.objectContaining({ version: 2, account: b.user, rotator: 'mariadb' }),
    ]);
  });

  it('should scramble instead of lock when the policy says so', async () => {
    const { id, a, b } = await pair('scramble');
    await putPolicy(id, settings({ users: [a.user, b.user], retire: 'scramble' }), 'PT1H').expect(
      200,
    );
    await rotate(id, { emergency: true });

    await retire();

    expect(await retiredVersions(id)).toEqual([1]);
    expect(await canLogin(a)).toBe(false);
    expect(await users.isLocked(a.user)).toBe(false);
  });

  describe('retirement', () => {
    it('should retire a version once however many passes run at the same time', async () => {
      const { id, a, b } = await pair('race');
      await putPolicy(id, settings({ users: [a.user, b.user] }), 'PT1H').expect(200);
      await rotate(id, { emergency: true });

      await Promise.all([retire(), retire(), retire()]);

      expect(await retiredVersions(id)).toEqual([1]);
      expect(await canLogin(a)).toBe(false);
    });

    it('should back off after a failure and retire once the admin login works again', async () => {
      const { id, a, b } = await pair('backoff');
      const own = await createCredential(sut, admin, {
        path: 'db/backoff-admin',
        username: adminLogin.user,
        secret: { password: adminLogin.password },
      });
      await putPolicy(
        id,
        settings({ users: [a.user, b.user], adminCredentialId: own.id }),
        'PT1H',
      ).expect(200);
      await rotate(id, { emergency: true });
      const setAdminPassword = (password: string) =>
        sut.http
          .put(`${API}/credentials/${own.id}/secret`)
          .set(admin)
          .send({ secret: { password } })
          .expect(200);
      await setAdminPassword('wrong-admin-password');

      await retire();
      await retire();

      const failures = await auditDetails(id, 'rotation.retire_failed');
      expect(failures).toEqual([
        expect.objectContaining({
          version: 1,
          account: a.user,
          failures: 1,
          error: expect.stringMatching(/admin login .* was refused/),
        }),
      ]);
      expect(JSON.stringify(failures)).not.toContain('wrong-admin-password');
      expect(await canLogin(a)).toBe(true);

      await setAdminPassword(adminLogin.password);
      await db.query(
        'UPDATE credential_versions SET retire_after = UTC_TIMESTAMP(3) WHERE credential_id = ?',
        [id],
      );
      await retire();

      expect(await retiredVersions(id)).toEqual([1]);
      expect(await canLogin(a)).toBe(false);
    });

    it('should wait while a run is open, and give up once no rotator can retire the version', async () => {
      const { id, a, b } = await pair('manual');
      await putPolicy(id, settings({ users: [a.user, b.user] }), 'PT1H').expect(200);
      await rotate(id, { emergency: true });
      await putPolicy(id, { kind: 'manual' }, 'PT1H').expect(200);
      expect(await rotate(id)).toMatchObject({ status: 'waiting' });

      await retire();
      expect(await auditDetails(id, 'rotation.retire_skipped')).toEqual([]);
      await sut.http
        .put(`${API}/credentials/${id}/secret`)
        .set(admin)
        .send({ secret: { password: 'typed-by-a-person' } })
        .expect(200);
      await retire();

      expect(await auditDetails(id, 'rotation.retire_skipped')).toEqual([
        expect.objectContaining({ version: 1, account: a.user, reason: expect.any(String) }),
      ]);
      expect(await retiredVersions(id)).toEqual([]);
      expect(await canLogin(a)).toBe(true);
    });
  });

  describe('single user', () => {
    it('should force the grace to zero, with a warning', async () => {
      const { id } = await pair('single_policy');

      const response = await putPolicy(id, settings({ strategy: 'single-user' }), 'PT1H').expect(
        200,
      );

      expect(response.body).toMatchObject({
        gracePeriod: 'PT0S',
        warnings: [expect.stringContaining('single-user')],
      });
      const stored = await sut.http.get(`${API}/credentials/${id}/rotation`).set(admin).expect(200);
      expect(stored.body).toMatchObject({ gracePeriod: 'PT0S' });
    });

    it('should change the password in place: the new one logs in, the old one no longer', async () => {
      const { id, a } = await pair('single');
      await putPolicy(id, settings({ strategy: 'single-user' })).expect(200);

      const run = await rotate(id);

      expect(run).toMatchObject({ status: 'succeeded', graceSeconds: 0 });
      expect(run.notes).toMatch(/^single-user: the old password .* stopped working/);
      expect(await usernameOf(id)).toBe(a.user);
      expect(await states(id)).toEqual({ 1: 'revoked', 2: 'current' });
      expect(await canLogin({ user: a.user, password: (await revealed(id)).password })).toBe(true);
      expect(await canLogin(a)).toBe(false);
      await retire();
      expect(await retiredVersions(id)).toEqual([]);
    });
  });

  describe('failures', () => {
    async function expectFailedCleanly(
      id: string,
      run: Run,
      message: RegExp,
      logins: DbLogin[],
    ): Promise<void> {
      expect(run).toMatchObject({ status: 'failed', attempt: 1 });
      expect(run.error).toMatch(message);
      expect(await states(id)).toEqual({ 1: 'current', 2: 'destroyed' });
      for (const login of logins) expect(await canLogin(login)).toBe(true);
    }

    it('should fail at once, changing nothing, when the admin password is wrong', async () => {
      const { id, a, b } = await pair('wrong_admin');
      const wrong = await createCredential(sut, admin, {
        path: 'db/wrong-admin',
        username: adminLogin.user,
        secret: { password: 'not-the-password' },
      });
      await putPolicy(
        id,
        settings({ users: [a.user, b.user], adminCredentialId: wrong.id }),
      ).expect(200);

      const run = await rotate(id);

      await expectFailedCleanly(id, run, /admin login .* was refused/, [a, b]);
      expect(run.error).not.toContain('not-the-password');
      expect(await usernameOf(id)).toBe(a.user);
    });

    it('should fail at once, changing nothing, when a user does not exist', async () => {
      const { id, a, b } = await pair('ghost');
      await putPolicy(id, settings({ users: [a.user, users.name('nobody')] })).expect(200);

      const run = await rotate(id);

      await expectFailedCleanly(id, run, /no such user .*nobody/, [a, b]);
    });

    it('should fail at once, changing nothing, when the admin lacks CREATE USER', async () => {
      const { id, a, b } = await pair('weak_admin');
      const weak = await users.create('weak', ['SELECT ON mysql.user']);
      const weakAdmin = await createCredential(sut, admin, {
        path: 'db/weak-admin',
        username: weak.user,
        secret: { password: weak.password },
      });
      await putPolicy(
        id,
        settings({ users: [a.user, b.user], adminCredentialId: weakAdmin.id }),
      ).expect(200);

      const run = await rotate(id);

      await expectFailedCleanly(id, run, /CREATE USER privilege/, [a, b]);
    });
  });

  describe('policy checks', () => {
    let id: string;
    let a: DbLogin;
    let b: DbLogin;

    beforeAll(async () => {
      ({ id, a, b } = await pair('checks'));
    });

    async function refused(rotator: Record<string, unknown>, field: string, message: RegExp) {
      const response = await putPolicy(id, rotator).expect(400);
      const fields = (response.body as { fields: { field: string; errors: string[] }[] }).fields;
      expect(fields).toContainEqual({ field, errors: [expect.stringMatching(message)] });
    }

    it('should refuse alternating users without two distinct users', async () => {
      await refused(settings(), 'rotator.users', /two user names/);
      await refused(settings({ users: [a.user, a.user] }), 'rotator.users', /two different/);
      await refused(
        settings({ users: [a.user, "b'; DROP USER x"] }),
        'rotator.users',
        /user names/,
      );
      await refused(
        settings({ strategy: 'single-user', users: [a.user, b.user] }),
        'rotator.users',
        /left out/,
      );
    });

    it('should refuse a credential whose username is not one of the users', async () => {
      const other = await users.create('checks_c');
      await refused(settings({ users: [b.user, other.user] }), 'rotator.users', /must be one of/);
    });

    it('should refuse an admin credential that is not another password credential you may reveal', async () => {
      const key = await createCredential(sut, admin, {
        path: 'db/api-key',
        type: 'api_key',
        secret: { apiKey: 'k-1234567890abcdef' },
      });
      const pair2 = settings({ users: [a.user, b.user] });
      await refused({ ...pair2, adminCredentialId: id }, 'rotator.adminCredentialId', /another/);
      await refused(
        { ...pair2, adminCredentialId: key.id },
        'rotator.adminCredentialId',
        /password credential with a username/,
      );
      await refused(
        { ...pair2, adminCredentialId: '2f1c7a52-3f0e-4f43-9f55-1f4a4c3f8b11' },
        'rotator.adminCredentialId',
        /you may reveal/,
      );
      const rotatorOnly = await serviceWithGrants(sut, admin.authorization, [
        { pathPattern: 'db/checks', capabilities: ['read', 'rotate'] },
        { pathPattern: 'db/admin', capabilities: ['read'] },
      ]);
      const response = await putPolicy(id, pair2, 'PT2S', rotatorOnly.headers).expect(400);
      expect(JSON.stringify(response.body)).toMatch(/you may reveal/);
    });

    it('should refuse bad settings: unknown fields, host, port, tls', async () => {
      const pair2 = settings({ users: [a.user, b.user] });
      await refused({ ...pair2, database: 'x' }, 'rotator.database', /should not exist/);
      await refused({ ...pair2, host: 'db host;' }, 'rotator.host', /host name/);
      await refused({ ...pair2, host: '169.254.169.254' }, 'rotator.host', /Outbound call refused/);
      await refused({ ...pair2, port: 70000 }, 'rotator.port', /65535/);
      await refused({ ...pair2, tls: { verify: true } }, 'rotator.tls', /unknown fields/);
      await refused({ ...pair2, accountHost: "%'" }, 'rotator.accountHost', /accountHost/);
    });

    it('should refuse the policy to viewers and to services without the rotate capability', async () => {
      const rotator = settings({ users: [a.user, b.user] });
      await putPolicy(id, rotator, 'PT2S', viewer).expect(403);
      const reader = await serviceWithGrants(sut, admin.authorization, [
        { pathPattern: 'db/**', capabilities: ['read', 'reveal'] },
      ]);
      await putPolicy(id, rotator, 'PT2S', reader.headers).expect(403);
      const stranger = await serviceWithGrants(sut, admin.authorization, [
        { pathPattern: 'elsewhere/**', capabilities: ['read', 'rotate', 'reveal'] },
      ]);
      await putPolicy(id, rotator, 'PT2S', stranger.headers).expect(404);
    });

    it('should describe the rotator and its settings', async () => {
      const response = await sut.http.get(`${API}/rotations/rotators`).set(admin).expect(200);
      const mariadb = (response.body as { kind: string }[]).find((r) => r.kind === 'mariadb');
      expect(mariadb).toMatchObject({
        types: ['password'],
        usesGenerator: true,
        settings: expect.objectContaining({
          users: expect.any(String),
          retire: expect.any(String),
        }),
      });
    });
  });

  it("should be cut off at once by an incident's containment: the old user locked, the new one logging in", async () => {
    const { id, a, b } = await pair('incident');
    await putPolicy(id, settings({ users: [a.user, b.user] }), 'PT1H').expect(200);
    const incident = await sut.http
      .post(`${API}/incidents`)
      .set(admin)
      .send({ type: 'credential_leak', severity: 'critical', title: 'db password in a paste' })
      .expect(201);
    const incidentId = (incident.body as { id: string }).id;
    await sut.http
      .post(`${API}/incidents/${incidentId}/credentials`)
      .set(admin)
      .send({ credentialIds: [id] })
      .expect(200);

    const contained = await sut.http
      .post(`${API}/incidents/${incidentId}/contain`)
      .set(admin)
      .send({ note: 'rotate the leaked database login' })
      .expect(200);
    expect(contained.body).toMatchObject({
      incident: { status: 'contained' },
      credentials: [{ credentialId: id, outcome: 'rotating' }],
    });
    const runId = (contained.body as { credentials: { runId: string }[] }).credentials[0].runId;
    const run = await until(async () => {
      const current = (await sut.http.get(`${API}/rotations/${runId}`).set(admin).expect(200))
        .body as Run;
      return current.status === 'running' ? undefined : current;
    });
    // An emergency: no grace, whatever the policy says.
    expect(run).toMatchObject({ status: 'succeeded', graceSeconds: 0 });
    const now = await revealed(id);
    expect(now.version).toBe(2);
    expect(await canLogin({ user: b.user, password: now.password })).toBe(true);
    // The leaked login is revoked with the switch; the retirer locks its user.
    await until(async () => {
      await retire();
      return (await canLogin(a)) ? undefined : true;
    });
    expect(await canLogin({ user: b.user, password: now.password })).toBe(true);
  });
});
