import { likeLiteral, SqlFragment } from '../database/dialect';

/** `rotation.succeeded`, or `rotation.*` for every type under `rotation.`; `*` for all. */
const TYPE_PATTERN = /^(\*|[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*(\.\*)?)$/;

/** Which event types a reader wants: exact names and `prefix.` prefixes; null for all. */
export interface TypeFilter {
  exact: string[];
  prefixes: string[];
}

export const TYPE_PATTERN_MAX_LENGTH = 64;

export function isTypePattern(value: unknown): value is string {
  return (
    typeof value === 'string' && value.length <= TYPE_PATTERN_MAX_LENGTH && TYPE_PATTERN.test(value)
  );
}

/**
 * The filter of a list of type patterns; null when it lets every type through (no list, an
 * empty one, or `*` in it). Throws on a malformed pattern: callers validate input first.
 */
export function typeFilterOf(types: readonly string[] | undefined): TypeFilter | null {
  if (!types || types.length === 0 || types.includes('*')) return null;
  const filter: TypeFilter = { exact: [], prefixes: [] };
  for (const type of types) {
    if (!isTypePattern(type)) throw new Error(`not an event type pattern: ${JSON.stringify(type)}`);
    if (type.endsWith('.*')) filter.prefixes.push(type.slice(0, -1));
    else filter.exact.push(type);
  }
  return filter;
}

export function matchesType(filter: TypeFilter | null, type: string): boolean {
  if (!filter) return true;
  return filter.exact.includes(type) || filter.prefixes.some((prefix) => type.startsWith(prefix));
}

/** The same filter as a condition on the `type` column (`ESCAPE '!'`, as likeLiteral wants). */
export function typeFilterSql(filter: TypeFilter, column = 'type'): SqlFragment {
  const parts: string[] = [];
  const parameters: unknown[] = [];
  if (filter.exact.length > 0) {
    parts.push(`${column} IN (${filter.exact.map(() => '?').join(', ')})`);
    parameters.push(...filter.exact);
  }
  for (const prefix of filter.prefixes) {
    parts.push(`${column} LIKE ? ESCAPE '!'`);
    parameters.push(`${likeLiteral(prefix)}%`);
  }
  return { sql: `(${parts.join(' OR ')})`, parameters };
}
