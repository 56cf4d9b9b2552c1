import type { SqlFragment } from '../../database/dialect';
import { isValidPathPattern } from './path-pattern';

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
export function pathPatternsSql(column: string, patterns: readonly string[]): SqlFragment {
  const parameters = patterns.filter(isValidPathPattern).map(pathPatternRegex);
  return {
    sql:
      parameters.length > 0
        ? `(${parameters.map(() => `${column} REGEXP ?`).join(' OR ')})`
        : '1 = 0',
    parameters,
  };
}
