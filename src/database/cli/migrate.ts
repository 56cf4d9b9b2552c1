import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ConfigError } from '../../config/config-error';
import { loadDatabaseConfig } from '../../config/database.config';
import { buildDataSourceOptions } from '../data-source-options';
import { ensureMariadbDatabase } from '../ensure-database';
import { runMigrationsExclusively } from '../exclusive-migrations';
import { checkMigrations } from './migration-check';
import { createScratchMariadb, createScratchSqlite } from './scratch-database';

const USAGE = `Usage:
  migrate run                      apply pending migrations to the configured database
  migrate revert                   revert the last applied migration
  migrate check [sqlite|mariadb]   on a scratch database of each dialect (default: both):
                                   apply all, fail if TypeORM would generate more, revert all, apply again`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  // The check builds and drops scratch databases: only problems are worth printing.
  if (command === 'check') Logger.overrideLogger(['error', 'warn']);
  switch (command) {
    case 'run':
      return withConfigured(async (dataSource) => {
        const applied = await runMigrationsExclusively(dataSource);
        say(
          applied.length ? `Applied: ${applied.map((m) => m.name).join(', ')}` : 'Nothing to apply',
        );
      });
    case 'revert':
      return withConfigured(async (dataSource) => {
        await dataSource.undoLastMigration({ transaction: 'each' });
        say('Reverted the last migration');
      });
    case 'check':
      return check(rest.length ? rest : ['sqlite', 'mariadb']);
    default:
      say(USAGE);
      return command ? 2 : 0;
  }
}

async function withConfigured(work: (dataSource: DataSource) => Promise<void>): Promise<number> {
  const config = loadDatabaseConfig(process.env);
  if (config.dialect === 'mariadb') await ensureMariadbDatabase(config.url);
  const dataSource = new DataSource(buildDataSourceOptions(config));
  await dataSource.initialize();
  try {
    await work(dataSource);
    return 0;
  } finally {
    await dataSource.destroy();
  }
}

async function check(dialects: string[]): Promise<number> {
  let failed = false;
  for (const dialect of dialects) {
    if (dialect !== 'sqlite' && dialect !== 'mariadb') {
      say(`Unknown dialect "${dialect}"\n${USAGE}`);
      return 2;
    }
    const scratch = dialect === 'sqlite' ? createScratchSqlite() : await createScratchMariadb();
    try {
      const result = await checkMigrations(scratch.config);
      const problems = [
        ...result.pendingSchemaChanges.map((sql) => `entities differ from migrations: ${sql}`),
        ...result.leftAfterRevert.map(
          (table) => `table left after reverting all migrations: ${table}`,
        ),
      ];
      say(
        `migration check (${dialect}): ${result.applied} migrations, ${problems.length ? 'FAILED' : 'ok'}`,
      );
      problems.forEach((problem) => say(`  - ${problem}`));
      failed ||= problems.length > 0 || result.applied === 0;
    } finally {
      await scratch.drop();
    }
  }
  return failed ? 1 : 0;
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `${error instanceof ConfigError ? error.message : String((error as Error).stack ?? error)}\n`,
    );
    process.exit(1);
  },
);
