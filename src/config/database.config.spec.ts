import { join, resolve } from 'node:path';
import { ConfigError } from './config-error';
import { loadDatabaseConfig } from './database.config';

function configErrorFor(env: Record<string, string>): ConfigError {
  try {
    loadDatabaseConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(env)}`);
}

describe('loadDatabaseConfig', () => {
  it('should default to SQLite in the data directory when the environment is empty', () => {
    const sut = loadDatabaseConfig({});
    expect(sut).toEqual({
      dialect: 'sqlite',
      file: join(resolve('./data'), 'custos.sqlite'),
      common: {
        runMigrations: true,
        poolSize: 10,
        connectRetries: 3,
        retry: { attempts: 4, baseMs: 20 },
      },
    });
  });

  it('should put the SQLite file at <CUSTOS_DATA_DIR>/custos.sqlite', () => {
    const sut = loadDatabaseConfig({ CUSTOS_DATA_DIR: '/srv/custos-data' });
    expect(sut).toMatchObject({ dialect: 'sqlite', file: '/srv/custos-data/custos.sqlite' });
  });

  it('should use MariaDB when DATABASE_URL is set', () => {
    const url = 'mysql://custos:pw@db:3306/custos?ssl=true';
    const sut = loadDatabaseConfig({ DATABASE_URL: url });
    expect(sut).toEqual({
      dialect: 'mariadb',
      url,
      nodes: [{ host: 'db', port: 3306 }],
      writeMode: 'single-node',
      common: {
        runMigrations: true,
        poolSize: 10,
        connectRetries: 3,
        retry: { attempts: 4, baseMs: 20 },
      },
    });
  });

  it('should read a list of hosts in order and the write mode', () => {
    const sut = loadDatabaseConfig({
      DATABASE_URL: 'mysql://custos:pw@db1:3306,db2:3307,db3/custos',
      DB_WRITE_MODE: 'any-node',
    });
    expect(sut).toMatchObject({
      dialect: 'mariadb',
      writeMode: 'any-node',
      nodes: [
        { host: 'db1', port: 3306 },
        { host: 'db2', port: 3307 },
        { host: 'db3', port: 3306 },
      ],
    });
  });

  it('should name DATABASE_URL without showing it when a host of the list is bad', () => {
    const error = configErrorFor({ DATABASE_URL: 'mysql://custos:hunter2@db1,db2:99999/custos' });
    expect(error.message).toContain('DATABASE_URL');
    expect(error.message).not.toContain('hunter2');
  });

  it('should reject an unknown DB_WRITE_MODE', () => {
    expect(configErrorFor({ DB_WRITE_MODE: 'all-nodes' }).message).toContain('DB_WRITE_MODE');
  });

  it('should accept a mariadb:// URL', () => {
    expect(loadDatabaseConfig({ DATABASE_URL: 'mariadb://db/custos' })).toMatchObject({
      dialect: 'mariadb',
      url: 'mariadb://db/custos',
    });
  });

  it('should parse the numeric and boolean settings', () => {
    const sut = loadDatabaseConfig({
      DB_RUN_MIGRATIONS: '0',
      DB_POOL_SIZE: '25',
      DB_CONNECT_RETRIES: '0',
      DB_RETRY_ATTEMPTS: '0',
      DB_RETRY_BASE_MS: '5',
    });
    expect(sut.common).toEqual({
      runMigrations: false,
      poolSize: 25,
      connectRetries: 0,
      retry: { attempts: 0, baseMs: 5 },
    });
    expect(loadDatabaseConfig({ DB_RUN_MIGRATIONS: 'true' }).common.runMigrations).toBe(true);
    expect(loadDatabaseConfig({ DB_RUN_MIGRATIONS: 'false' }).common.runMigrations).toBe(false);
  });

  it.each([
    ['DATABASE_URL', 'postgres://x/db'],
    ['DATABASE_URL', 'mysql://db:3306'],
    ['DB_RUN_MIGRATIONS', 'sometimes'],
    ['DB_ALLOW_SQLITE_IN_PRODUCTION', 'perhaps'],
    ['DB_POOL_SIZE', '0'],
    ['DB_POOL_SIZE', '501'],
    ['DB_CONNECT_RETRIES', 'many'],
    ['DB_RETRY_ATTEMPTS', '-1'],
    ['DB_RETRY_ATTEMPTS', '21'],
    ['DB_RETRY_BASE_MS', '0'],
    ['DB_RETRY_BASE_MS', 'soon'],
  ])('should throw a ConfigError naming %s when it is %j', (name, value) => {
    const error = configErrorFor({ [name]: value });
    expect(error.message).toContain(name);
    expect(error.problems[0]).toMatch(new RegExp(`^${name}: `));
  });

  it('should never echo a bad DATABASE_URL, which may hold a password', () => {
    const password = 'S3cr3t-Passw0rd';
    const error = configErrorFor({ DATABASE_URL: `postgres://custos:${password}@db:5432/custos` });
    expect(error.message).toContain('DATABASE_URL');
    expect(error.message).not.toContain(password);
    expect(error.message).not.toContain('postgres://');
  });

  it('should refuse SQLite in production, naming DATABASE_URL', () => {
    const error = configErrorFor({ NODE_ENV: 'production' });
    expect(error.message).toContain('DATABASE_URL');
    expect(error.message).toContain('DB_ALLOW_SQLITE_IN_PRODUCTION');
  });

  it('should allow SQLite in production when DB_ALLOW_SQLITE_IN_PRODUCTION=true', () => {
    const sut = loadDatabaseConfig({
      NODE_ENV: 'production',
      DB_ALLOW_SQLITE_IN_PRODUCTION: 'true',
      CUSTOS_DATA_DIR: '/data',
    });
    expect(sut).toMatchObject({ dialect: 'sqlite', file: '/data/custos.sqlite' });
  });

  it('should still refuse SQLite in production when DB_ALLOW_SQLITE_IN_PRODUCTION is false', () => {
    expect(() =>
      loadDatabaseConfig({ NODE_ENV: 'production', DB_ALLOW_SQLITE_IN_PRODUCTION: 'false' }),
    ).toThrow(ConfigError);
  });

  it('should use MariaDB in production when DATABASE_URL is set', () => {
    expect(
      loadDatabaseConfig({ NODE_ENV: 'production', DATABASE_URL: 'mysql://u:p@db/custos' }),
    ).toMatchObject({ dialect: 'mariadb' });
  });
});
