import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const MIGRATIONS = join(__dirname, '..', '..', 'migrations');
const DIALECTS = ['mariadb', 'sqlite'];

/** What migrations/checksums.json locks: "<dialect>/<file>" to the SHA-256 of its content. */
const locked = JSON.parse(readFileSync(join(MIGRATIONS, 'checksums.json'), 'utf8')) as Record<
  string,
  string
>;

function migrationFiles(): string[] {
  return DIALECTS.flatMap((dialect) =>
    readdirSync(join(MIGRATIONS, dialect))
      .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts') && file !== 'index.ts')
      .map((file) => `${dialect}/${file}`),
  ).sort();
}

function sha256(file: string): string {
  return createHash('sha256')
    .update(readFileSync(join(MIGRATIONS, file)))
    .digest('hex');
}

describe('shipped migrations', () => {
  it('should lock at least one migration of each dialect', () => {
    for (const dialect of DIALECTS) {
      expect(Object.keys(locked).filter((file) => file.startsWith(`${dialect}/`))).not.toEqual([]);
    }
  });

  it.each(Object.entries(locked))('should keep %s as it shipped', (file, expected) => {
    if (!existsSync(join(MIGRATIONS, file))) {
      throw new Error(`a migration that has shipped was deleted: ${file}; restore it`);
    }
    if (sha256(file) !== expected) {
      throw new Error(
        `a migration that has shipped was edited: add a new migration instead (${file})`,
      );
    }
  });

  it('should list every migration file in migrations/checksums.json', () => {
    const unlisted = migrationFiles().filter((file) => !Object.hasOwn(locked, file));
    if (unlisted.length > 0) {
      throw new Error(
        `new migration: add it to migrations/checksums.json with \`npm run migration:lock\` (${unlisted.join(', ')})`,
      );
    }
  });
});
