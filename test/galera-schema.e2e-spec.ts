import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { ScratchDatabase } from '../src/database/cli/scratch-database';
import { MIGRATIONS_TABLE } from '../src/database/data-source-options';
import {
  MIGRATION_LOCK_TABLE,
  runMigrationsExclusively,
} from '../src/database/exclusive-migrations';
import { randomMasterKey, scratchMariadb, startApp, TestApp } from './helpers/test-app';

/**
 * What Galera asks of the schema, checked on a migrated MariaDB: every table has a primary key
 * (rows of a table without one replicate slowly or not at all) and is InnoDB (the only engine it
 * replicates); and several instances started at once migrate one database without a fault.
 */
describe('Galera-safe schema (MariaDB)', () => {
  let database: ScratchDatabase;
  let apps: TestApp[] = [];

  beforeAll(async () => {
    database = await scratchMariadb();
    const env = {
      CUSTOS_MASTER_KEY: randomMasterKey(),
      JWT_SECRET: randomBytes(48).toString('base64'),
      DB_RUN_MIGRATIONS: 'true',
      DB_CONNECT_RETRIES: '0',
    };
    // Three instances of a fresh deployment, all starting at once on an empty database.
    apps = await Promise.all([1, 2, 3].map(() => startApp(database, { env })));
  });

  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    await database?.drop();
  });

  it('should have migrated once, whichever instance did it, and every instance should be ready', async () => {
    const db = apps[0].app.get(DataSource);
    const rows = await db.query<{ name: string; n: string | number }[]>(
      `SELECT name, COUNT(*) AS n FROM ${MIGRATIONS_TABLE} GROUP BY name HAVING COUNT(*) > 1`,
    );
    expect(rows).toEqual([]);
    expect(await db.showMigrations()).toBe(false);
    for (const app of apps) await app.http.get('/api/v1/health/ready').expect(200);
  });

  it('should wait while another instance holds the migration lock, and take one that expired', async () => {
    const db = apps[0].app.get(DataSource);
    await db.query(
      `INSERT INTO ${MIGRATION_LOCK_TABLE} (id, holder, expires_at) ` +
        "VALUES (1, 'elsewhere', UTC_TIMESTAMP(3) + INTERVAL 1 MINUTE)",
    );
    let done = false;
    const waiting = runMigrationsExclusively(db, { pollMs: 50 }).then((applied) => {
      done = true;
      return applied;
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(done).toBe(false);
    await db.query(`DELETE FROM ${MIGRATION_LOCK_TABLE}`);
    expect(await waiting).toEqual([]);

    // A migrator that died: its lock runs out and the next instance goes ahead.
    await db.query(
      `INSERT INTO ${MIGRATION_LOCK_TABLE} (id, holder, expires_at) ` +
        "VALUES (1, 'crashed', UTC_TIMESTAMP(3) - INTERVAL 1 SECOND)",
    );
    expect(await runMigrationsExclusively(db, { pollMs: 50, waitMs: 2000 })).toEqual([]);
    expect(await db.query(`SELECT holder FROM ${MIGRATION_LOCK_TABLE}`)).toEqual([]);
  });

  it('should give every table a primary key', async () => {
    const rows = await apps[0].app
      .get(DataSource)
      .query<{ name: string }[]>(
        'SELECT t.table_name AS name FROM information_schema.tables t ' +
          'LEFT JOIN information_schema.table_constraints c ON c.table_schema = t.table_schema ' +
          "AND c.table_name = t.table_name AND c.constraint_type = 'PRIMARY KEY' " +
          "WHERE t.table_schema = DATABASE() AND t.table_type = 'BASE TABLE' " +
          'AND c.constraint_name IS NULL',
      );
    expect(rows.map((row) => row.name)).toEqual([]);
  });

  it('should keep every table in InnoDB', async () => {
    const rows = await apps[0].app
      .get(DataSource)
      .query<{ name: string; engine: string }[]>(
        'SELECT table_name AS name, engine FROM information_schema.tables ' +
          "WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE' AND engine <> 'InnoDB'",
      );
    expect(rows).toEqual([]);
  });
});
