import { registerAs } from '@nestjs/config';
import { IsBoolean, IsIn, IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import { join } from 'node:path';
import { DatabaseNode, parseDatabaseUrl } from './database-url';
import { loadAppConfig } from './app.config';
import { ConfigError } from './config-error';
import { EnvBoolean, EnvInteger } from './env-transforms';
import { Env, validateEnv } from './validate-env';

/**
 * How an instance uses a list of database nodes. `single-node`: every instance writes through
 * the first healthy node of the list, so on Galera concurrent transactions meet on one node's
 * row locks and certification conflicts stay rare. `any-node`: each new connection goes to the
 * next healthy node in turn, spreading the load and relying on the transaction retry for the
 * conflicts certification then reports.
 */
export type WriteMode = 'single-node' | 'any-node';

const WRITE_MODES: readonly WriteMode[] = ['single-node', 'any-node'];

class DatabaseEnv {
  @IsOptional()
  @Matches(/^(mysql|mariadb):\/\/[^\s]+\/[A-Za-z0-9_$]+(\?.*)?$/, {
    message:
      'must be a mysql:// or mariadb:// URL that names a database, e.g. mysql://custos:pw@db:3306/custos ' +
      'or, for a cluster, mysql://custos:pw@db1:3306,db2:3306,db3:3306/custos',
  })
  DATABASE_URL?: string;

  /** With several hosts in DATABASE_URL: one write node for all instances, or any node. */
  @IsIn(WRITE_MODES)
  DB_WRITE_MODE: WriteMode = 'single-node';

  @EnvBoolean()
  @IsBoolean()
  DB_RUN_MIGRATIONS = true;

  @EnvBoolean()
  @IsBoolean()
  DB_ALLOW_SQLITE_IN_PRODUCTION = false;

  @EnvInteger()
  @Min(1)
  @Max(500)
  @IsInt()
  DB_POOL_SIZE = 10;

  @EnvInteger()
  @Min(0)
  @Max(100)
  @IsInt()
  DB_CONNECT_RETRIES = 3;

  /** Re-runs of a transaction that lost to a concurrent one (0 turns retrying off). */
  @EnvInteger()
  @Min(0)
  @Max(20)
  @IsInt()
  DB_RETRY_ATTEMPTS = 4;

  @EnvInteger()
  @Min(1)
  @Max(10000)
  @IsInt()
  DB_RETRY_BASE_MS = 20;
}

export type DatabaseConfig =
  | {
      dialect: 'mariadb';
      url: string;
      /** The hosts of DATABASE_URL, preferred first. */
      nodes: DatabaseNode[];
      writeMode: WriteMode;
      common: DatabaseCommon;
    }
  | { dialect: 'sqlite'; file: string; common: DatabaseCommon };

interface DatabaseCommon {
  runMigrations: boolean;
  poolSize: number;
  connectRetries: number;
  retry: RetryPolicy;
}

/** How a transaction that failed retryably is run again: `attempts` re-runs, backoff from `baseMs`. */
export interface RetryPolicy {
  attempts: number;
  baseMs: number;
}

export function loadDatabaseConfig(env: Env): DatabaseConfig {
  const v = validateEnv(DatabaseEnv, env);
  const app = loadAppConfig(env);
  const common = {
    runMigrations: v.DB_RUN_MIGRATIONS,
    poolSize: v.DB_POOL_SIZE,
    connectRetries: v.DB_CONNECT_RETRIES,
    retry: { attempts: v.DB_RETRY_ATTEMPTS, baseMs: v.DB_RETRY_BASE_MS },
  };
  if (v.DATABASE_URL) {
    return {
      dialect: 'mariadb',
      url: v.DATABASE_URL,
      nodes: databaseNodes(v.DATABASE_URL),
      writeMode: v.DB_WRITE_MODE,
      common,
    };
  }
  if (app.isProduction && !v.DB_ALLOW_SQLITE_IN_PRODUCTION) {
    throw new ConfigError([
      'DATABASE_URL: must be set in production; the embedded SQLite default is single-instance ' +
        'only (set DB_ALLOW_SQLITE_IN_PRODUCTION=true to accept that)',
    ]);
  }
  return { dialect: 'sqlite', file: join(app.dataDir, 'custos.sqlite'), common };
}

function databaseNodes(url: string): DatabaseNode[] {
  try {
    return parseDatabaseUrl(url).nodes;
  } catch (error) {
    throw new ConfigError([`DATABASE_URL: ${(error as Error).message} (got "***")`]);
  }
}

export const databaseConfig = registerAs('database', () => loadDatabaseConfig(process.env));
