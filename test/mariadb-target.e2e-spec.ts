import * as mysql from 'mysql2/promise';
import { MariadbTargetError } from '../src/rotation/rotators/mariadb/mariadb-errors';
import {
  loginAccepted,
  MariadbAdminSession,
  pinBackslashEscapes,
} from '../src/rotation/rotators/mariadb/mariadb-target';
import { PermanentRotationError } from '../src/rotation/rotators/rotator';
import { canLogin, DbLogin, targetServer, TestUsers } from './helpers/mariadb-users';
import { freePort } from './helpers/spawned-app';

const HOSTILE = `a'b"c\\d\\\\'e\\`;

/** The mariadb rotator's connection layer against the test server, without the app. */
describe('mariadb target session (MariaDB)', () => {
  const users = new TestUsers();
  const { host, port, url } = targetServer();
  const endpoint = { host, address: host, port };
  let admin: DbLogin;
  let app: DbLogin;

  beforeAll(async () => {
    admin = await users.create('adm', ['CREATE USER ON *.*', 'SELECT ON mysql.user']);
    app = await users.create('app');
  });

  afterAll(() => users.drop());

  async function withSession<T>(work: (session: MariadbAdminSession) => Promise<T>): Promise<T> {
    const session = await MariadbAdminSession.open(endpoint, admin);
    try {
      return await work(session);
    } finally {
      await session.close();
    }
  }

  it('should escape passwords correctly even where the server sets NO_BACKSLASH_ESCAPES', async () => {
    const connection = await mysql.createConnection(url);
    try {
      await connection.query("SET SESSION sql_mode = 'STRICT_TRANS_TABLES,NO_BACKSLASH_ESCAPES'");
      const read = async () =>
        (
          await connection.query<mysql.RowDataPacket[]>(`SELECT ${connection.escape(HOSTILE)} AS v`)
        )[0][0].v as string;
      // Without the pin the escaped literal ends early: a syntax error here, worse with other text.
      await expect(read()).rejects.toThrow(/SQL syntax/);

      await pinBackslashEscapes(connection);

      expect(await read()).toBe(HOSTILE);
      const [[mode]] = await connection.query<mysql.RowDataPacket[]>(
        'SELECT @@SESSION.sql_mode AS m',
      );
      expect(mode.m).toBe('STRICT_TRANS_TABLES');
    } finally {
      await connection.end();
    }
  });

  it('should set a password of quotes and backslashes that then logs in', async () => {
    await withSession((session) =>
      session.setPassword({ name: app.user, host: '%' }, HOSTILE, false),
    );

    expect(await loginAccepted(endpoint, { user: app.user, password: HOSTILE })).toBe(true);
    expect(await loginAccepted(endpoint, app)).toBe(false);
  });

  it('should lock an account and unlock it with its next password', async () => {
    const account = { name: app.user, host: '%' };
    await withSession((session) => session.lock(account));
    expect(await loginAccepted(endpoint, { user: app.user, password: HOSTILE })).toBe(false);

    await withSession((session) => session.setPassword(account, 'next-password-1', true));

    expect(await canLogin({ user: app.user, password: 'next-password-1' })).toBe(true);
  });

  it('should name the missing users and fail for good without them', async () => {
    const ghost = { name: users.name('ghost'), host: '%' };
    const present = { name: app.user, host: '%' };

    await withSession(async (session) => {
      expect(await session.missingAccounts([present, ghost])).toEqual([ghost]);
      await expect(session.checkAccounts([present, ghost])).rejects.toThrow(
        new RegExp(`no such user .*${ghost.name}@%`),
      );
      await session.checkAccounts([present]);
    });
  });

  it('should keep the password out of the error when ALTER USER fails', async () => {
    const failure = await withSession((session) =>
      session
        .setPassword({ name: users.name('ghost'), host: '%' }, 'secret-that-must-not-leak', false)
        .catch((error: unknown) => error),
    );

    expect(failure).toBeInstanceOf(PermanentRotationError);
    expect(
      JSON.stringify({ ...(failure as object), message: (failure as Error).message }),
    ).not.toContain('secret-that-must-not-leak');
  });

  it('should fail for good when the admin login is refused or lacks CREATE USER', async () => {
    await expect(
      MariadbAdminSession.open(endpoint, { user: admin.user, password: 'wrong' }),
    ).rejects.toThrow(PermanentRotationError);
    const weak = await users.create('weak', ['SELECT ON mysql.user']);
    const session = await MariadbAdminSession.open(endpoint, weak);
    try {
      await expect(session.checkPrivileges()).rejects.toThrow(/CREATE USER privilege/);
    } finally {
      await session.close();
    }
  });

  it('should let the engine retry when the server cannot be reached', async () => {
    const closed = { host: '127.0.0.1', address: '127.0.0.1', port: await freePort() };

    await expect(loginAccepted(closed, app)).rejects.toThrow(MariadbTargetError);
    await expect(MariadbAdminSession.open(closed, admin)).rejects.toThrow(/ECONNREFUSED/);
  });
});
