import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Preloaded into a bench server (`--require`, see rotation.bench.ts) when BENCH_SQL_COUNT_DIR is
 * set: counts every statement the process sends through mysql2, by its text with literals and
 * IN-lists folded, and writes the counts to that directory as JSON when the process exits.
 * Measurement only; nothing here runs in production.
 */
const dir = process.env.BENCH_SQL_COUNT_DIR;
if (dir) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { prototype } = require(
    join(dirname(require.resolve('mysql2')), 'lib', 'base', 'connection.js'),
  ) as {
    prototype: Record<'query' | 'execute', (this: unknown, ...args: unknown[]) => unknown>;
  };
  const counts = new Map<string, number>();
  const waits = new Map<string, number>();
  const count = (sql: unknown): string | undefined => {
    const text = typeof sql === 'string' ? sql : (sql as { sql?: string } | null)?.sql;
    if (typeof text !== 'string') return undefined;
    const shape = text
      .replace(/'(?:[^'\\]|\\.)*'/g, "'…'")
      .replace(/\b\d+\b/g, 'N')
      .replace(/\((?:\s*\?\s*,)+\s*\?\s*\)/g, '(?…)')
      .replace(/\s+/g, ' ')
      .trim();
    counts.set(shape, (counts.get(shape) ?? 0) + 1);
    return shape;
  };
  for (const name of ['query', 'execute'] as const) {
    const original = prototype[name];
    prototype[name] = function (this: unknown, ...args: unknown[]) {
      const shape = count(args[0]);
      const started = performance.now();
      const command = original.apply(this, args) as {
        once?: (event: string, f: () => void) => void;
      };
      // Time until the answer is in, waits for locks included.
      command?.once?.('end', () => {
        if (shape) waits.set(shape, (waits.get(shape) ?? 0) + performance.now() - started);
      });
      return command;
    };
  }
  // The bench starts counting when the measured work starts.
  process.on('SIGUSR2', () => {
    counts.clear();
    waits.clear();
  });
  process.on('exit', () => {
    writeFileSync(
      join(dir, `sql-${process.pid}.json`),
      JSON.stringify(
        Object.fromEntries(
          [...counts]
            .sort((a, b) => b[1] - a[1])
            .map(([shape, n]) => [shape, [n, waits.get(shape) ?? 0]]),
        ),
      ),
    );
  });
}
