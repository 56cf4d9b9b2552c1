import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as mysql from 'mysql2/promise';
import { DatabaseConfig } from '../../config/database.config';
import { parseDatabaseUrl } from '../../config/database-url';

export const DEFAULT_MARIADB_SERVER_URL = 'mysql://root@127.0.0.1:3306';

export interface ScratchDatabase {
  config: DatabaseConfig;
  /** The DATABASE_URL of it (undefined for SQLite, which is chosen by the data directory). */
  url?: string;
  dataDir?: string;
  drop(): Promise<void>;
}

const common = {
  runMigrations: true,
  poolSize: 5,
  connectRetries: 0,
  retry: { attempts: 4, baseMs: 20 },
};

/** A new, empty database with a random name on the MariaDB server (tests and checks only). */
export async function createScratchMariadb(
  serverUrl = process.env.MARIADB_TEST_URL ?? DEFAULT_MARIADB_SERVER_URL,
): Promise<ScratchDatabase> {
  const name = `custos_test_${randomBytes(6).toString('hex')}`;
  const server = serverUrl.replace(/\/+$/, '');
  const admin = await mysql.createConnection(server);
  try {
    await admin.query(
      `CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
    );
  } finally {
    await admin.end();
  }
  const url = `${server}/${name}`;
  return {
    config: {
      dialect: 'mariadb',
      url,
      nodes: parseDatabaseUrl(url).nodes,
      writeMode: 'single-node',
      common,
    },
    url,
    async drop() {
      const connection = await mysql.createConnection(server);
      try {
        await connection.query(`DROP DATABASE IF EXISTS \`${name}\``);
      } finally {
        await connection.end();
      }
    },
  };
}

/** A new data directory with an empty SQLite file path in it. */
export function createScratchSqlite(): ScratchDatabase {
  const dataDir = mkdtempSync(join(tmpdir(), 'custos-test-'));
  return {
    config: { dialect: 'sqlite', file: join(dataDir, 'custos.sqlite'), common },
    dataDir,
    drop() {
      rmSync(dataDir, { recursive: true, force: true });
      return Promise.resolve();
    },
  };
}
