/**
 * Credential paths and the patterns grants use to select them.
 *
 * A path is `acme/prod/mysql-root`: segments of `[a-z0-9._-]`, 1 to 64 characters, never `.` or
 * `..`, joined by single `/`, at most 255 characters in all. A pattern is a path whose segments
 * may also be `*` (exactly one segment) or, as its last segment only, `**` (one or more further
 * segments: `acme/**` matches `acme/x` and `acme/x/y`, not `acme`). Nothing else is glob syntax,
 * and matching is exact and case-sensitive. Anything malformed matches nothing.
 */

export const MAX_PATH_LENGTH = 255;
export const MAX_SEGMENT_LENGTH = 64;

const SEGMENT = /^[a-z0-9._-]{1,64}$/;
const ONE = '*';
const DEEP = '**';

/** Why `segment` (1-based `position`) is not a path segment, or undefined when it is one. */
function segmentProblem(segment: string, position: number): string | undefined {
  if (segment === '') return `segment ${position} is empty (no leading, trailing or double '/')`;
  if (segment === '.' || segment === '..') return `segment ${position} is '${segment}'`;
  if (segment.length > MAX_SEGMENT_LENGTH)
    return `segment ${position} is longer than ${MAX_SEGMENT_LENGTH} characters`;
  if (!SEGMENT.test(segment))
    return `segment ${position} ('${segment}') may only hold a-z, 0-9, '.', '_' and '-'`;
  return undefined;
}

function lengthProblem(value: unknown, what: string): string | undefined {
  if (typeof value !== 'string') return `a ${what} must be a string`;
  if (value === '') return `a ${what} must not be empty`;
  if (value.length > MAX_PATH_LENGTH)
    return `a ${what} must be at most ${MAX_PATH_LENGTH} characters`;
  return undefined;
}

/** What is wrong with a credential path, or undefined when it is valid. */
export function pathProblem(path: unknown): string | undefined {
  const problem = lengthProblem(path, 'path');
  if (problem) return problem;
  const segments = (path as string).split('/');
  for (let i = 0; i < segments.length; i++) {
    const segment = segmentProblem(segments[i], i + 1);
    if (segment) return segment;
  }
  return undefined;
}

/** What is wrong with a path pattern, or undefined when it is valid; the message names the segment. */
export function pathPatternProblem(pattern: unknown): string | undefined {
  const problem = lengthProblem(pattern, 'path pattern');
  if (problem) return problem;
  const segments = (pattern as string).split('/');
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i];
    if (segment === ONE) continue;
    if (segment === DEEP) {
      if (i === segments.length - 1) continue;
      return `'**' is allowed only as the last segment (found at segment ${i + 1})`;
    }
    const segmentIssue = segmentProblem(segment, i + 1);
    if (segmentIssue) {
      return segment.includes('*')
        ? `segment ${i + 1} ('${segment}') mixes '*' with other characters; a wildcard must be a whole segment, '*' or a final '**'`
        : segmentIssue;
    }
  }
  return undefined;
}

export function isValidPath(path: unknown): path is string {
  return pathProblem(path) === undefined;
}

export function isValidPathPattern(pattern: unknown): pattern is string {
  return pathPatternProblem(pattern) === undefined;
}

/**
 * Whether `pattern` selects `path`. False when either is malformed, so a bad grant or a bad
 * path never widens access.
 */
export function matchesPath(pattern: string, path: string): boolean {
  if (!isValidPathPattern(pattern) || !isValidPath(path)) return false;
  const wanted = pattern.split('/');
  const actual = path.split('/');
  const deep = wanted[wanted.length - 1] === DEEP;
  const fixed = deep ? wanted.slice(0, -1) : wanted;
  if (deep ? actual.length <= fixed.length : actual.length !== fixed.length) return false;
  return fixed.every((segment, i) => segment === ONE || segment === actual[i]);
}

/**
 * Whether `pattern` selects at least one path inside the folder `prefix` ('' for the root, or a
 * path followed by '/'), judged from the pattern alone: what a LIST may answer about a folder
 * without telling whether anything is stored there. False when either is malformed.
 */
export function patternReachesUnder(pattern: string, prefix: string): boolean {
  if (!isValidPathPattern(pattern)) return false;
  if (prefix !== '' && (!prefix.endsWith('/') || !isValidPath(prefix.slice(0, -1)))) return false;
  const folder = prefix === '' ? [] : prefix.slice(0, -1).split('/');
  const wanted = pattern.split('/');
  const deep = wanted[wanted.length - 1] === DEEP;
  const fixed = deep ? wanted.slice(0, -1) : wanted;
  // Without `**` the pattern's paths all have its length: one segment past the folder at least.
  if (!deep && fixed.length <= folder.length) return false;
  const shared = Math.min(fixed.length, folder.length);
  for (let i = 0; i < shared; i++) {
    if (fixed[i] !== ONE && fixed[i] !== folder[i]) return false;
  }
  return true;
}
