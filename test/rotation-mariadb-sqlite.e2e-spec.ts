import { createScratchSqlite, ScratchDatabase } from '../src/database/cli/scratch-database';
import { VersionRetirer } from '../src/rotation/sweeper/version-retirer';
import { createCredential, Headers } from './helpers/credential-fixtures';
import { canLogin, targetServer, TestUsers } from './helpers/mariadb-users';
import { until } from './helpers/rotation-checks';
import { bearerFor, startApp, TestApp } from './helpers/test-app';

const API = '/api/v1';

/**
 * The mariadb rotator with Custos on its embedded SQLite default (the target still a MariaDB
 * server): the switch, the accounts recorded, the notes and the retirement in SQLite's dialect.
 */
describe('mariadb rotator with the store on SQLite', () => {
  let database: ScratchDatabase;
  let sut: TestApp;
  let admin: Headers;
  const users = new TestUsers();

  beforeAll(async () => {
    database = createScratchSqlite();
    sut = await startApp(database, {
      env: { THROTTLE_LIMIT: '100000', CUSTOS_OUTBOUND_ALLOW_LOOPBACK: 'true' },
    });
    admin = { authorization: await bearerFor(sut, 'admin') };
  });

  afterAll(async () => {
    await sut?.close();
    await database?.drop();
    await users.drop();
  });

  it('should switch users, keep the old one through its grace and lock it after', async () => {
    const login = await users.create('adm', ['CREATE USER ON *.*', 'SELECT ON mysql.user']);
    const a = await users.create('a');
    const b = await users.create('b');
    const adminCredential = await createCredential(sut, admin, {
      path: 'db/admin',
      username: login.user,
      secret: { password: login.password },
    });
    const { id } = await createCredential(sut, admin, {
      path: 'db/app',
      username: a.user,
      secret: { password: a.password },
    });
    const { host, port } = targetServer();
    await sut.http
      .put(`${API}/credentials/${id}/rotation`)
      .set(admin)
      .send({
        enabled: true,
        interval: 'P30D',
        // Long enough for the checks inside it on a loaded machine (1 s once ran out under CI).
        gracePeriod: 'PT5S',
        rotator: {
          kind: 'mariadb',
          adminCredentialId: adminCredential.id,
          host,
          port,
          users: [a.user, b.user],
        },
      })
      .expect(200);

    const accepted = await sut.http.post(`${API}/credentials/${id}/rotate`).set(admin).send({});
    const runId = (accepted.body as { runId: string }).runId;
    const run = await until(async () => {
      const body = (await sut.http.get(`${API}/rotations/${runId}`).set(admin)).body as {
        status: string;
        notes: string | null;
      };
      return body.status === 'running' ? undefined : body;
    });

    expect(run).toMatchObject({ status: 'succeeded', notes: expect.stringContaining(b.user) });
    const revealed = await sut.http
      .post(`${API}/credentials/${id}/reveal`)
      .set(admin)
      .send({ reason: 'test' })
      .expect(200);
    const password = (revealed.body as { secret: { password: string } }).secret.password;
    expect(revealed.body).toMatchObject({ version: 2, username: b.user });
    expect(await canLogin({ user: b.user, password })).toBe(true);
    expect(await canLogin(a)).toBe(true);
    const previous = await sut.http
      .post(`${API}/credentials/${id}/reveal`)
      .set(admin)
      .send({ version: 1, reason: 'test' })
      .expect(200);
    expect(previous.body).toMatchObject({ version: 1, username: a.user });

    const retirer = sut.app.get(VersionRetirer);
    // Nothing to retire until the grace ends, then the old user, once.
    const pass = await until(async () => {
      const attempt = await retirer.retireDue();
      return attempt.retired + attempt.failed > 0 ? attempt : undefined;
    }, 15_000);
    expect(pass).toEqual({ retired: 1, failed: 0 });

    expect(await canLogin(a)).toBe(false);
    expect(await canLogin({ user: b.user, password })).toBe(true);
    expect(await sut.app.get(VersionRetirer).retireDue()).toEqual({ retired: 0, failed: 0 });
  });
});
