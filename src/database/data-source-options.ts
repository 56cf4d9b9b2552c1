import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DataSourceOptions } from 'typeorm';
import { MARIADB_MIGRATIONS } from '../../migrations/mariadb';
import { SQLITE_MIGRATIONS } from '../../migrations/sqlite';
import { registerSqliteRegexp } from './sqlite-functions';
import { DatabaseConfig } from '../config/database.config';
import { ENTITIES } from './entities';
import { parseDatabaseUrl } from '../config/database-url';
import { ClusterOptions, mariadbDriver } from './mariadb-driver';
import { TypeOrmLogger } from './typeorm-logger';

export const MIGRATIONS_TABLE = 'schema_migrations';

/**
 * The one definition of the database connection, used by the app, the migration CLI and the
 * tests. Dialect differences live here and in the per-dialect migrations, nowhere else.
 */
export function buildDataSourceOptions(config: DatabaseConfig): DataSourceOptions {
  const common = {
    entities: ENTITIES,
    migrationsTableName: MIGRATIONS_TABLE,
    migrationsRun: false,
    synchronize: false,
    logger: new TypeOrmLogger(),
    maxQueryExecutionTime: 2000,
  };
  if (config.dialect === 'mariadb') {
    return {
      ...common,
      type: 'mariadb',
      ...connectionTarget(config),
      driver: mariadbDriver,
      charset: 'utf8mb4_unicode_ci',
      timezone: 'Z',
      poolSize: config.common.poolSize,
      // mysql2 captures a stack trace for every query by default, so that an error can point at
      // its caller; TypeORM wraps every failure in its own QueryFailedError with the SQL anyway,
      // and the capture cost ~8% of the CPU of a service read under load.
      extra: { trace: false, custosCluster: clusterOf(config) },
      migrations: MARIADB_MIGRATIONS,
      migrationsTransactionMode: 'each',
    };
  }
  mkdirSync(dirname(config.file), { recursive: true, mode: 0o700 });
  return {
    ...common,
    type: 'better-sqlite3',
    database: config.file,
    enableWAL: true,
    timeout: 5000,
    prepareDatabase: registerSqliteRegexp,
    migrations: SQLITE_MIGRATIONS,
    migrationsTransactionMode: 'each',
  };
}

type MariadbConfig = Extract<DatabaseConfig, { dialect: 'mariadb' }>;

/**
 * TypeORM's own URL parsing takes one host: a list is given to it as its parts (the first host
 * stands for the list; the driver's FailoverPool uses them all).
 */
function connectionTarget(config: MariadbConfig) {
  if (config.nodes.length < 2) return { url: config.url };
  const parsed = parseDatabaseUrl(config.url);
  return {
    host: parsed.nodes[0].host,
    port: parsed.nodes[0].port,
    username: parsed.user,
    password: parsed.password,
    database: parsed.database,
  };
}

function clusterOf(config: MariadbConfig): ClusterOptions | undefined {
  return config.nodes.length < 2 ? undefined : { nodes: config.nodes, mode: config.writeMode };
}
