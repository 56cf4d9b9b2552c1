import { isValidPathPattern } from './path-pattern';

export interface SqlCondition {
  sql: string;
  params: Record<string, string>;
}

/**
 * The regular expression (POSIX ERE, the same on MariaDB and in JavaScript) of the paths a
 * pattern selects: `*` is one segment, a final `**` one or more further segments.
 */
export function pathPatternRegex(pattern: string): string {
  const segments = pattern.split('/');
  const deep = segments[segments.length - 1] === '**';
  const fixed = (deep ? segments.slice(0, -1) : segments).map((segment) =>
    segment === '*' ? '[^/]+' : segment.replace(/[.]/g, '[.]'),
  );
  const body = fixed.length > 0 ? fixed.join('/') : '';
  return deep
    ? `^${body}${fixed.length > 0 ? '' : '[^/]+'}(/[^/]+)${fixed.length > 0 ? '+' : '*'}$`
    : `^${body}$`;
}

/**
 * The patterns as one SQL condition on a path column, selecting exactly the paths matchesPath()
 * selects, so a filtered list can page and count in the database. MariaDB has REGEXP; the
 * SQLite connection registers a `regexp` function (see data-source-options). No valid pattern:
 * a condition that is always false.
 */
export function pathPatternsSql(
  column: string,
  patterns: readonly string[],
  prefix = 'pp',
): SqlCondition {
  const params: Record<string, string> = {};
  const clauses = patterns.filter(isValidPathPattern).map((pattern, i) => {
    params[`${prefix}${i}`] = pathPatternRegex(pattern);
    return `${column} REGEXP :${prefix}${i}`;
  });
  return { sql: clauses.length > 0 ? `(${clauses.join(' OR ')})` : '1 = 0', params };
}

/** The same condition with positional (`?`) parameters, for plain SQL. */
export function pathPatternsPositional(
  column: string,
  patterns: readonly string[],
): { sql: string; parameters: string[] } {
  const parameters = patterns.filter(isValidPathPattern).map(pathPatternRegex);
  return {
    sql:
      parameters.length > 0
        ? `(${parameters.map(() => `${column} REGEXP ?`).join(' OR ')})`
        : '1 = 0',
    parameters,
  };
}
