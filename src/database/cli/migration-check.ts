import { DataSource } from 'typeorm';
import { DatabaseConfig } from '../../config/database.config';
import { buildDataSourceOptions, MIGRATIONS_TABLE } from '../data-source-options';
import { alignSqliteGeneratedIds } from '../dialect';

export interface MigrationCheckResult {
  dialect: DatabaseConfig['dialect'];
  applied: number;
  /** SQL TypeORM would still generate after all migrations: must be empty. */
  pendingSchemaChanges: string[];
  /** Tables left after reverting every migration, besides the migrations table: must be empty. */
  leftAfterRevert: string[];
}

/**
 * Runs every migration on an empty database, asks TypeORM what it would still generate, then
 * reverts every migration and runs them again, so that drift between entities and migrations
 * and a broken down() are both caught.
 */
export async function checkMigrations(config: DatabaseConfig): Promise<MigrationCheckResult> {
  const dataSource = new DataSource(buildDataSourceOptions(config));
  await dataSource.initialize();
  try {
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    alignSqliteGeneratedIds(dataSource);
    const sql = await dataSource.driver.createSchemaBuilder().log();
    const pendingSchemaChanges = sql.upQueries.map((query) => query.query);
    for (let i = 0; i < applied.length; i++) {
      await dataSource.undoLastMigration({ transaction: 'each' });
    }
    const leftAfterRevert = (await listTables(dataSource)).filter((t) => t !== MIGRATIONS_TABLE);
    await dataSource.runMigrations({ transaction: 'each' });
    return {
      dialect: config.dialect,
      applied: applied.length,
      pendingSchemaChanges,
      leftAfterRevert,
    };
  } finally {
    await dataSource.destroy();
  }
}

async function listTables(dataSource: DataSource): Promise<string[]> {
  const rows: { name: string }[] =
    dataSource.options.type === 'better-sqlite3'
      ? await dataSource.query(
          "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        )
      : await dataSource.query(
          'SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE()',
        );
  return rows.map((row) => row.name);
}
