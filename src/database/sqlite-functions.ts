/** The part of a better-sqlite3 connection used here. */
interface SqliteConnection {
  function(
    name: string,
    options: { deterministic: boolean },
    fn: (...args: unknown[]) => unknown,
  ): unknown;
}

const MAX_CACHED = 256;

/**
 * `value REGEXP pattern` on SQLite, as MariaDB has it (SQLite calls `regexp(pattern, value)`).
 * Patterns come from the application (grant path patterns), never from request text.
 */
export function registerSqliteRegexp(db: SqliteConnection): void {
  const cache = new Map<string, RegExp>();
  db.function('regexp', { deterministic: true }, (pattern, value) => {
    if (typeof pattern !== 'string' || typeof value !== 'string') return 0;
    let regex = cache.get(pattern);
    if (!regex) {
      if (cache.size >= MAX_CACHED) cache.clear();
      regex = new RegExp(pattern);
      cache.set(pattern, regex);
    }
    return regex.test(value) ? 1 : 0;
  });
}
