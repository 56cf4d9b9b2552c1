import { randomBytes } from 'node:crypto';
import * as mysql from 'mysql2/promise';
import { DEFAULT_MARIADB_SERVER_URL } from '../../src/database/cli/scratch-database';

/** The test server the app's scratch databases live on, where the rotated users live too. */
export function targetServer(): { host: string; port: number; url: string } {
  const url = process.env.MARIADB_TEST_URL ?? DEFAULT_MARIADB_SERVER_URL;
  const parsed = new URL(url);
  return { host: parsed.hostname, port: Number(parsed.port || 3306), url: url.replace(/\/+$/, '') };
}

export interface DbLogin {
  user: string;
  password: string;
}

/**
 * MariaDB users (and databases) of one test file on the test server, each named
 * `cus_<random>_<name>` so files running side by side never meet, users all `@'%'`, dropped
 * together by drop().
 */
export class TestUsers {
  readonly prefix = `cus_${randomBytes(4).toString('hex')}`;
  private readonly created: string[] = [];
  private readonly databases: string[] = [];

  name(suffix: string): string {
    return `${this.prefix}_${suffix}`;
  }

  /** A user with `grants` (e.g. `CREATE USER ON *.*`) and a password of quotes and backslashes. */
  async create(suffix: string, grants: string[] = []): Promise<DbLogin> {
    const user = this.name(suffix);
    const password = `Pw'"\\${randomBytes(9).toString('base64url')}\\'`;
    await this.root(async (root) => {
      await root.query('CREATE USER ?@? IDENTIFIED BY ?', [user, '%', password]);
      this.created.push(user);
      for (const grant of grants) await root.query(`GRANT ${grant} TO ?@?`, [user, '%']);
    });
    return { user, password };
  }

  /**
   * A database of the file's own, `statements` run in it as root (tables for the users to
   * query: create it before granting on it); returns its name.
   */
  async createDatabase(suffix: string, statements: string[] = []): Promise<string> {
    const name = this.name(suffix);
    await this.root(async (root) => {
      await root.query(`CREATE DATABASE \`${name}\``);
      this.databases.push(name);
      await root.query(`USE \`${name}\``);
      for (const statement of statements) await root.query(statement);
    });
    return name;
  }

  /** Whether the account is locked (mysql.global_priv, MariaDB 10.4+). */
  async isLocked(user: string): Promise<boolean> {
    return this.root(async (root) => {
      const [rows] = await root.query<mysql.RowDataPacket[]>(
        "SELECT JSON_VALUE(Priv, '$.account_locked') AS locked FROM mysql.global_priv " +
          "WHERE User = ? AND Host = '%'",
        [user],
      );
      return String(rows[0]?.locked) === '1';
    });
  }

  async drop(): Promise<void> {
    await this.root(async (root) => {
      for (const user of this.created) await root.query('DROP USER IF EXISTS ?@?', [user, '%']);
      for (const name of this.databases) await root.query(`DROP DATABASE IF EXISTS \`${name}\``);
    });
  }

  private async root<T>(work: (root: mysql.Connection) => Promise<T>): Promise<T> {
    const root = await mysql.createConnection(targetServer().url);
    try {
      return await work(root);
    } finally {
      await root.end();
    }
  }
}

/**
 * What a service does with its login: connects (to `database`) and runs `sql`; the rows, or
 * the error the server gave.
 */
export async function queryAs(
  login: DbLogin,
  sql: string,
  database?: string,
): Promise<mysql.RowDataPacket[]> {
  const { host, port } = targetServer();
  const connection = await mysql.createConnection({ host, port, database, ...login });
  try {
    const [rows] = await connection.query<mysql.RowDataPacket[]>(sql);
    return rows;
  } finally {
    await connection.end();
  }
}

/** Whether `login` gets in and can run SELECT 1 (false when refused or locked). */
export async function canLogin(login: DbLogin): Promise<boolean> {
  try {
    await queryAs(login, 'SELECT 1');
    return true;
  } catch (error) {
    const errno = (error as { errno?: number }).errno;
    if (errno === 1045 || errno === 4151) return false;
    throw error;
  }
}
