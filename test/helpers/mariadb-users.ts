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
 * MariaDB users of one test file on the test server, each named `cus_<random>_<name>` so files
 * running side by side never meet, all `@'%'`, dropped together by drop().
 */
export class TestUsers {
  readonly prefix = `cus_${randomBytes(4).toString('hex')}`;
  private readonly created: string[] = [];

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

/** Whether `login` gets in and can run SELECT 1 (false when refused or locked). */
export async function canLogin(login: DbLogin): Promise<boolean> {
  const { host, port } = targetServer();
  let connection: mysql.Connection | undefined;
  try {
    connection = await mysql.createConnection({ host, port, ...login });
    await connection.query('SELECT 1');
    return true;
  } catch (error) {
    const errno = (error as { errno?: number }).errno;
    if (errno === 1045 || errno === 4151) return false;
    throw error;
  } finally {
    await connection?.end();
  }
}
