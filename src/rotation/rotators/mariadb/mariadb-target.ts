import { randomBytes } from 'node:crypto';
import { connect as dial } from 'node:net';
import type { RowDataPacket } from 'mysql2';
import { Connection, ConnectionOptions, createConnection } from 'mysql2/promise';
import { PermanentRotationError } from '../rotator';
import { Account, accountLabel, accountSql } from './mariadb-account';
import { isLoginRefused, targetFailure } from './mariadb-errors';
import type { TlsSetting } from './mariadb-settings';

/** Where the target server is and how to reach it (from the policy's settings). */
export interface TargetEndpoint {
  /** As the policy names it: in messages, and the name TLS checks the certificate against. */
  host: string;
  /** The address the outbound guard checked `host` resolves to: the one connected to. */
  address: string;
  port: number;
  tls?: boolean | TlsSetting;
}

export interface Login {
  user: string;
  password: string;
}

/** Below the engine's step timeout (ROTATION_STEP_TIMEOUT, 30 s by default), so a dead host fails the step with its own message. */
const CONNECT_TIMEOUT_MS = 10_000;

/** The bytes of a password no one is meant to know (`retire: scramble`). */
const SCRAMBLE_BYTES = 32;

function sslOf(tls: TargetEndpoint['tls']): ConnectionOptions['ssl'] {
  if (!tls) return undefined;
  const setting: TlsSetting = tls === true ? {} : tls;
  const rejectUnauthorized = setting.rejectUnauthorized ?? true;
  // mysql2 checks the chain but not the host name unless asked to.
  return {
    rejectUnauthorized,
    verifyIdentity: rejectUnauthorized,
    ...(setting.ca ? { ca: setting.ca } : {}),
  };
}

/**
 * A connection as `login` to the checked address (the socket is dialled here, so mysql2 never
 * resolves the name itself); the driver's own errors are thrown as they are (callers map them).
 */
function connect(endpoint: TargetEndpoint, login: Login): Promise<Connection> {
  const socket = dial({ host: endpoint.address, port: endpoint.port });
  socket.setNoDelay(true);
  return createConnection({
    host: endpoint.host,
    stream: socket,
    port: endpoint.port,
    user: login.user,
    password: login.password,
    ssl: sslOf(endpoint.tls),
    connectTimeout: CONNECT_TIMEOUT_MS,
    multipleStatements: false,
  });
}

function where(endpoint: TargetEndpoint): string {
  return `${endpoint.host}:${endpoint.port}`;
}

/**
 * Whether the server lets `login` in and run `SELECT 1`: false when it refuses the password or the
 * account is locked; any other failure (the server unreachable) throws, since it says nothing
 * about the password.
 */
export async function loginAccepted(endpoint: TargetEndpoint, login: Login): Promise<boolean> {
  let connection: Connection | undefined;
  try {
    connection = await connect(endpoint, login);
    await connection.query('SELECT 1');
    return true;
  } catch (error) {
    if (isLoginRefused(error)) return false;
    throw targetFailure(error, `logging in as ${login.user} on ${where(endpoint)}`, true);
  } finally {
    await close(connection);
  }
}

/**
 * A session of the admin login on the target server. Statements that carry a password cannot be
 * prepared on MariaDB (`ALTER USER ?@? IDENTIFIED BY ?` is a syntax error there), so the password
 * is escaped as a string literal by mysql2; the session's sql_mode is pinned first so that the
 * backslash escapes mysql2 writes mean what they say.
 */
export class MariadbAdminSession {
  private constructor(
    private readonly connection: Connection,
    private readonly endpoint: TargetEndpoint,
  ) {}

  /** Logs in as the admin; a refused login fails the run for good (the credential is wrong). */
  static async open(endpoint: TargetEndpoint, login: Login): Promise<MariadbAdminSession> {
    let connection: Connection;
    try {
      connection = await connect(endpoint, login);
    } catch (error) {
      if (isLoginRefused(error)) {
        throw new PermanentRotationError(
          `the admin login ${login.user} was refused by ${where(endpoint)}: check the admin credential`,
        );
      }
      throw targetFailure(error, `connecting to ${where(endpoint)} as the admin`, true);
    }
    const session = new MariadbAdminSession(connection, endpoint);
    try {
      await pinBackslashEscapes(connection);
    } catch (error) {
      await session.close();
      throw targetFailure(error, 'reading the session sql_mode', true);
    }
    return session;
  }

  /**
   * The admin may change other users' passwords and locks: ALTER USER needs the global CREATE
   * USER privilege (granted directly: privileges held through a role are not looked at).
   */
  async checkPrivileges(): Promise<void> {
    let rows: RowOf<{ privilege: string }>[];
    try {
      [rows] = await this.connection.query<RowOf<{ privilege: string }>[]>(
        'SELECT PRIVILEGE_TYPE AS privilege FROM information_schema.USER_PRIVILEGES ' +
          "WHERE PRIVILEGE_TYPE = 'CREATE USER'",
      );
    } catch (error) {
      throw targetFailure(error, 'reading the admin login’s privileges', true);
    }
    if (rows.length === 0) {
      throw new PermanentRotationError(
        'the admin login lacks the global CREATE USER privilege, which ALTER USER needs',
      );
    }
  }

  /** Fails for good unless every account exists. */
  async checkAccounts(accounts: readonly Account[]): Promise<void> {
    const missing = await this.missingAccounts(accounts);
    if (missing.length > 0) {
      throw new PermanentRotationError(
        `no such user on ${where(this.endpoint)}: ${missing.map(accountLabel).join(', ')}`,
      );
    }
  }

  /** The accounts that do not exist, read from mysql.user (SELECT on it is needed). */
  async missingAccounts(accounts: readonly Account[]): Promise<Account[]> {
    let rows: RowOf<{ name: string; host: string }>[];
    try {
      [rows] = await this.connection.query<RowOf<{ name: string; host: string }>[]>(
        'SELECT User AS name, Host AS host FROM mysql.user WHERE ' +
          accounts.map(() => '(User = ? AND Host = ?)').join(' OR '),
        accounts.flatMap((a) => [a.name, a.host]),
      );
    } catch (error) {
      throw targetFailure(
        error,
        'looking the users up in mysql.user (GRANT SELECT ON mysql.user)',
        true,
      );
    }
    return accounts.filter((a) => !rows.some((row) => row.name === a.name && row.host === a.host));
  }

  /** The account's new password, and unlocked when asked (a user rotated back into service). */
  async setPassword(account: Account, password: string, unlock: boolean): Promise<void> {
    const statement =
      `ALTER USER ${accountSql(account)} IDENTIFIED BY ${this.connection.escape(password)}` +
      (unlock ? ' ACCOUNT UNLOCK' : '');
    try {
      await this.connection.query(statement);
    } catch (error) {
      // Never the server's text here: a parse error would quote the statement, password and all.
      throw targetFailure(error, `setting the password of ${accountLabel(account)}`);
    }
  }

  /** ACCOUNT LOCK: new logins are refused (sessions already open are not ended). */
  async lock(account: Account): Promise<void> {
    try {
      await this.connection.query(`ALTER USER ${accountSql(account)} ACCOUNT LOCK`);
    } catch (error) {
      throw targetFailure(error, `locking ${accountLabel(account)}`, true);
    }
  }

  /** A random password that is never stored or shown: no one can log in as the account again. */
  scramble(account: Account): Promise<void> {
    return this.setPassword(account, randomBytes(SCRAMBLE_BYTES).toString('base64url'), false);
  }

  close(): Promise<void> {
    return close(this.connection);
  }
}

/**
 * Takes NO_BACKSLASH_ESCAPES out of a session's sql_mode (a server may set it globally): with it,
 * the backslashes mysql2 escapes quotes and backslashes with would become part of a password.
 */
export async function pinBackslashEscapes(connection: Connection): Promise<void> {
  const [rows] = await connection.query<RowOf<{ mode: string }>[]>(
    'SELECT @@SESSION.sql_mode AS mode',
  );
  const modes = String(rows[0]?.mode ?? '').split(',');
  if (!modes.includes('NO_BACKSLASH_ESCAPES')) return;
  const kept = modes.filter((mode) => mode !== 'NO_BACKSLASH_ESCAPES').join(',');
  await connection.execute('SET SESSION sql_mode = ?', [kept]);
}

/** A mysql2 result row typed by its columns. */
type RowOf<T> = T & RowDataPacket;

/** Ends a connection politely (the server counts dropped ones as aborted), or drops it. */
async function close(connection: Connection | undefined): Promise<void> {
  if (!connection) return;
  await connection.end().catch(() => connection.destroy());
}
