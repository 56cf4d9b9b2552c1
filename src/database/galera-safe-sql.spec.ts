import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = join(__dirname, '..', '..');

function sourcesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourcesUnder(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') ? [path] : [];
  });
}

/** The code without its comments, which may name what the code must not do. */
function codeOf(path: string): string {
  return readFileSync(path, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/^\s*\/\/.*$/gm, '');
}

describe('SQL that Galera does not replicate', () => {
  // Galera replicates row changes, not table locks or named locks: both hold on one node only,
  // so they would protect nothing across the cluster.
  const FORBIDDEN = /\bLOCK\s+TABLES?\b|\bGET_LOCK\s*\(|\bRELEASE_LOCK\s*\(|\bIS_FREE_LOCK\s*\(/i;

  it.each(['src', 'migrations'])('should appear nowhere under %s/', (dir) => {
    const offenders = sourcesUnder(join(ROOT, dir))
      .filter((path) => FORBIDDEN.test(codeOf(path)))
      .map((path) => relative(ROOT, path));
    expect(offenders).toEqual([]);
  });

  it('should be caught where it does appear', () => {
    expect(FORBIDDEN.test("await manager.query('LOCK TABLES credentials WRITE')")).toBe(true);
    expect(FORBIDDEN.test("SELECT GET_LOCK('custos', 10)")).toBe(true);
    expect(FORBIDDEN.test('SELECT id FROM t FOR UPDATE SKIP LOCKED')).toBe(false);
  });
});
