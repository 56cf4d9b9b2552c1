import Database from 'better-sqlite3';
import fc from 'fast-check';
import { matchesPath } from './path-pattern';
import { registerSqliteRegexp } from '../../database/sqlite-functions';
import { pathPatternsSql } from './path-pattern-sql';

// Only valid paths: the database never holds another kind.
const PATHS = [
  'acme',
  'acme/prod',
  'acme/prod/db',
  'acme/prod/db/root',
  'acme/staging/db',
  'acme_x/prod/db',
  'acmex/prod/db',
  'other/prod/db',
  'acme/prod/db.v2',
  'acme/pro_/db',
];

/** Runs the condition on SQLite over PATHS and returns the selected ones, sorted. */
function selected(patterns: string[]): string[] {
  const db = new Database(':memory:');
  registerSqliteRegexp(db);
  db.exec('CREATE TABLE c (path TEXT)');
  const insert = db.prepare('INSERT INTO c VALUES (?)');
  PATHS.forEach((p) => insert.run(p));
  const { sql, parameters } = pathPatternsSql('path', patterns);
  const rows = db.prepare(`SELECT path FROM c WHERE ${sql} ORDER BY path`).all(...parameters) as {
    path: string;
  }[];
  db.close();
  return rows.map((r) => r.path);
}

function expected(patterns: string[]): string[] {
  return PATHS.filter((p) => patterns.some((pattern) => matchesPath(pattern, p))).sort();
}

describe('pathPatternsSql', () => {
  it.each([
    [['acme/prod/*']],
    [['acme/*/db']],
    [['acme/**']],
    [['acme/prod/**']],
    [['*']],
    [['**']],
    [['acme_x/prod/db']],

    [['acme/pro_/db']],
    [['acme/prod/db', 'other/**']],
  ])('should select exactly what matchesPath selects for %j', (patterns) => {
    expect(selected(patterns)).toEqual(expected(patterns));
  });

  it('should select nothing for no pattern or only malformed ones', () => {
    expect(selected([])).toEqual([]);
    expect(selected(['acme/**/db', 'ACME/*', ''])).toEqual([]);
  });

  it('should agree with matchesPath for any combination of patterns built from the paths', () => {
    const pattern = fc
      .array(fc.constantFrom('acme', 'prod', 'db', '*', 'acme_x', 'pro_'), {
        minLength: 1,
        maxLength: 4,
      })
      .chain((segments) =>
        fc.boolean().map((deep) => [...segments, ...(deep ? ['**'] : [])].join('/')),
      );
    fc.assert(
      fc.property(fc.array(pattern, { maxLength: 3 }), (patterns) => {
        expect(selected(patterns)).toEqual(expected(patterns));
      }),
      { numRuns: 150 },
    );
  });
});
