import fc from 'fast-check';
import {
  isValidPath,
  isValidPathPattern,
  matchesPath,
  MAX_PATH_LENGTH,
  MAX_SEGMENT_LENGTH,
  pathPatternProblem,
  patternReachesUnder,
} from './path-pattern';

const SEGMENT_CHARS = [...'abcxyz0189._-'];

/** A valid path segment: never `.` or `..`. Short, so that collisions between arbitraries happen. */
const segmentArb = fc
  .string({ unit: fc.constantFrom(...SEGMENT_CHARS), minLength: 1, maxLength: 6 })
  .filter((segment) => segment !== '.' && segment !== '..');
const segmentsArb = fc.array(segmentArb, { minLength: 1, maxLength: 6 });
const pathArb = segmentsArb.map((segments) => segments.join('/'));

/** Segments of a pattern: path segments and `*`, optionally followed by a final `**`. */
const patternArb = fc
  .record({
    segments: fc.array(fc.oneof(segmentArb, fc.constant('*')), { minLength: 1, maxLength: 6 }),
    deep: fc.boolean(),
  })
  .map(({ segments, deep }) => (deep ? [...segments, '**'] : segments).join('/'));

/** An independent model of matching: `*` is one segment, a final `/**` one or more. */
function modelRegex(pattern: string): RegExp {
  const segments = pattern.split('/');
  const deep = segments[segments.length - 1] === '**';
  const body = (deep ? segments.slice(0, -1) : segments)
    .map((s) => (s === '*' ? '[^/]+' : s.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&')))
    .join('/');
  if (deep) return new RegExp(body ? `^${body}(/[^/]+)+$` : '^[^/]+(/[^/]+)*$');
  return new RegExp(`^${body}$`);
}

/** An independent model of a valid pattern, for strings over a small hostile alphabet. */
const SEGMENT_MODEL = '(?!\\.\\.?(?:/|$))[a-z0-9._-]{1,64}';
const PATTERN_MODEL = new RegExp(
  `^(?:\\*\\*|(?:${SEGMENT_MODEL}|\\*)(?:/(?:${SEGMENT_MODEL}|\\*))*(?:/\\*\\*)?)$`,
);

describe('path patterns', () => {
  describe('isValidPathPattern', () => {
    it.each([
      ['acme/prod/mysql-root'],
      ['acme/prod/*'],
      ['acme/**'],
      ['acme/*/db/**'],
      ['*'],
      ['*/*'],
      ['**'],
      ['a.b_c-d/0'],
      ['.hidden/...'],
    ])('should accept %s', (pattern) => {
      expect(isValidPathPattern(pattern)).toBe(true);
      expect(pathPatternProblem(pattern)).toBeUndefined();
    });

    it.each([
      [''],
      ['/'],
      ['/a'],
      ['a/'],
      ['a//b'],
      ['**/a'],
      ['a/**/b'],
      ['a/**/**'],
      ['a/b*'],
      ['a/*b'],
      ['a/***'],
      ['a/?'],
      ['a/[bc]'],
      ['a/{b,c}'],
      ['a/!b'],
      ['../x'],
      ['a/./b'],
      ['a/..'],
      ['.'],
      ['A/b'],
      ['a/B'],
      ['a b'],
      ['a\\b'],
      ['a/b\n'],
      ['é/b'],
      ['a'.repeat(MAX_SEGMENT_LENGTH + 1)],
      [`${'a/'.repeat(127)}ab`],
    ])('should refuse %j', (pattern) => {
      expect(isValidPathPattern(pattern)).toBe(false);
      expect(pathPatternProblem(pattern)).toEqual(expect.any(String));
    });

    it.each([[undefined], [null], [42], [['a']], [{ pattern: 'a' }]])(
      'should refuse a non-string %j',
      (pattern) => {
        expect(isValidPathPattern(pattern)).toBe(false);
      },
    );

    it('should accept segments of 64 characters and patterns of 255', () => {
      expect(isValidPathPattern('a'.repeat(MAX_SEGMENT_LENGTH))).toBe(true);
      const longest = `${'a'.repeat(63)}/${'b'.repeat(63)}/${'c'.repeat(63)}/${'d'.repeat(63)}`;
      expect(longest).toHaveLength(MAX_PATH_LENGTH);
      expect(isValidPathPattern(longest)).toBe(true);
      expect(isValidPathPattern(`${longest}e`)).toBe(false);
    });

    it('should explain what is wrong, naming the segment', () => {
      expect(pathPatternProblem('')).toBe('a path pattern must not be empty');
      expect(pathPatternProblem('a//b')).toMatch(/segment 2 is empty/);
      expect(pathPatternProblem('**/a')).toMatch(/'\*\*' is allowed only as the last segment/);
      expect(pathPatternProblem('a/b*')).toMatch(/segment 2 \('b\*'\) mixes '\*'/);
      expect(pathPatternProblem('../x')).toMatch(/segment 1 is '\.\.'/);
      expect(pathPatternProblem('A/b')).toMatch(/segment 1 \('A'\) may only hold a-z/);
    });

    it('should agree with a regular-expression model on any short string', () => {
      const unit = fc.constantFrom(...'ab0.-_/*A ?'.split(''));
      fc.assert(
        fc.property(fc.string({ unit, maxLength: 14 }), (candidate) => {
          expect(isValidPathPattern(candidate)).toBe(PATTERN_MODEL.test(candidate));
        }),
        { numRuns: 3000 },
      );
    });

    it('should accept every generated path and pattern', () => {
      fc.assert(
        fc.property(pathArb, patternArb, (path, pattern) => {
          expect(isValidPath(path)).toBe(true);
          expect(isValidPathPattern(path)).toBe(true);
          expect(isValidPathPattern(pattern)).toBe(true);
        }),
      );
    });
  });

  describe('isValidPath', () => {
    it.each([['*'], ['a/*'], ['a/**'], ['**']])('should refuse wildcards in a path: %s', (path) => {
      expect(isValidPath(path)).toBe(false);
    });
  });

  describe('matchesPath', () => {
    it.each([
      ['acme/prod/mysql-root', 'acme/prod/mysql-root', true],
      ['acme/prod/*', 'acme/prod/mysql-root', true],
      ['acme/prod/*', 'acme/prod', false],
      ['acme/prod/*', 'acme/prod/db/root', false],
      ['acme/*/mysql-root', 'acme/stage/mysql-root', true],
      ['acme/**', 'acme/x', true],
      ['acme/**', 'acme/x/y', true],
      ['acme/**', 'acme', false],
      ['acme/**', 'acme-corp/x', false],
      ['acme/**', 'acmex/y', false],
      ['**', 'anything/at/all', true],
      ['*/**', 'acme', false],
      ['*/**', 'acme/x', true],
      ['acme/prod/*', 'Acme/prod/db', false],
      ['Acme/prod/*', 'Acme/prod/db', false],
      ['acme/a.b', 'acme/axb', false],
      ['acme/**', 'acme//x', false],
      ['acme/**', 'acme/../etc', false],
    ])('should match %s against %s: %s', (pattern, path, expected) => {
      expect(matchesPath(pattern, path)).toBe(expected);
    });

    it('should match a path with the pattern equal to it', () => {
      fc.assert(
        fc.property(pathArb, (path) => {
          expect(matchesPath(path, path)).toBe(true);
        }),
      );
    });

    it('should match every deeper path with prefix/** and never the prefix itself', () => {
      fc.assert(
        fc.property(pathArb, segmentsArb, (prefix, rest) => {
          const pattern = `${prefix}/**`;
          expect(matchesPath(pattern, `${prefix}/${rest.join('/')}`)).toBe(true);
          expect(matchesPath(pattern, prefix)).toBe(false);
        }),
      );
    });

    it('should never match a path outside the prefix with prefix/**', () => {
      fc.assert(
        fc.property(pathArb, pathArb, (prefix, path) => {
          expect(matchesPath(`${prefix}/**`, path)).toBe(path.startsWith(`${prefix}/`));
        }),
        { numRuns: 1000 },
      );
    });

    it('should match exactly one segment with *', () => {
      fc.assert(
        fc.property(segmentsArb, fc.nat(), segmentArb, (segments, at, extra) => {
          const index = at % segments.length;
          const pattern = segments.map((s, i) => (i === index ? '*' : s)).join('/');
          expect(matchesPath(pattern, segments.join('/'))).toBe(true);
          // Two segments where * stands, or none, never match.
          const wider = segments.flatMap((s, i) => (i === index ? [s, extra] : [s]));
          const narrower = segments.filter((_, i) => i !== index);
          expect(matchesPath(pattern, wider.join('/'))).toBe(false);
          if (narrower.length > 0) expect(matchesPath(pattern, narrower.join('/'))).toBe(false);
        }),
      );
    });

    it('should never match a path with another segment count unless the pattern ends in **', () => {
      fc.assert(
        fc.property(patternArb, pathArb, (pattern, path) => {
          fc.pre(!pattern.endsWith('**'));
          fc.pre(pattern.split('/').length !== path.split('/').length);
          expect(matchesPath(pattern, path)).toBe(false);
        }),
        { numRuns: 1000 },
      );
    });

    it('should agree with a regular-expression model of the wildcards', () => {
      // Patterns built from the path's own segments, so that matches are common.
      const pairArb = segmentsArb.chain((segments) =>
        fc.record({
          path: fc.constant(segments.join('/')),
          pattern: fc
            .record({
              parts: fc.array(
                fc.oneof(fc.constantFrom(...segments), fc.constant('*'), segmentArb),
                { minLength: 1, maxLength: segments.length + 1 },
              ),
              deep: fc.boolean(),
            })
            .map(({ parts, deep }) => (deep ? [...parts, '**'] : parts).join('/')),
        }),
      );
      fc.assert(
        fc.property(fc.oneof(pairArb, fc.record({ path: pathArb, pattern: patternArb })), (p) => {
          expect(matchesPath(p.pattern, p.path)).toBe(modelRegex(p.pattern).test(p.path));
        }),
        { numRuns: 2000 },
      );
    });

    it('should be case-sensitive: upper case never matches, as pattern or as path', () => {
      fc.assert(
        fc.property(pathArb, (path) => {
          fc.pre(/[a-z]/.test(path));
          expect(matchesPath(path.toUpperCase(), path)).toBe(false);
          expect(matchesPath(path, path.toUpperCase())).toBe(false);
          expect(matchesPath('**', path.toUpperCase())).toBe(false);
        }),
      );
    });

    it.each([[''], ['/'], ['a//b'], ['**/a'], ['a/**/b'], ['a/b*'], ['../x'], ['A/b']])(
      'should let the invalid pattern %j match nothing, not even itself',
      (pattern) => {
        expect(matchesPath(pattern, pattern)).toBe(false);
        fc.assert(
          fc.property(pathArb, (path) => {
            expect(matchesPath(pattern, path)).toBe(false);
          }),
          { numRuns: 100 },
        );
      },
    );
  });

  describe('patternReachesUnder', () => {
    /** A path inside `folder` that `pattern` selects, built from both (the model's witness). */
    function witness(pattern: string, folder: string[]): string {
      const wanted = pattern.split('/');
      const deep = wanted[wanted.length - 1] === '**';
      const fixed = deep ? wanted.slice(0, -1) : wanted;
      const path = [...folder];
      for (let i = folder.length; i < fixed.length; i++)
        path.push(fixed[i] === '*' ? 'x' : fixed[i]);
      if (path.length === folder.length || (deep && path.length === fixed.length)) path.push('x');
      return path.join('/');
    }

    it.each([
      ['acme/**', '', true],
      ['acme/**', 'acme/', true],
      ['acme/**', 'acme/prod/deep/', true],
      ['acme/**', 'other/', false],
      ['acme/prod/*', 'acme/', true],
      ['acme/prod/*', 'acme/prod/', true],
      ['acme/prod/*', 'acme/prod/db/', false],
      ['acme/prod/*', 'acme/stage/', false],
      ['*/prod/db', 'acme/prod/', true],
      ['acme/prod/db', 'acme/prod/', true],
      ['acme/prod/db', 'acme/prod/db/', false],
      ['**', 'any/thing/', true],
      ['a/**/b', '', false],
      ['acme/**', 'acme', false],
      ['acme/**', 'Acme/', false],
    ])('should decide whether %j reaches inside %j: %s', (pattern, prefix, expected) => {
      expect(patternReachesUnder(pattern, prefix)).toBe(expected);
    });

    it('should reach inside every folder that holds a path the pattern matches', () => {
      fc.assert(
        fc.property(patternArb, pathArb, (pattern, path) => {
          const segments = path.split('/');
          fc.pre(matchesPath(pattern, path));
          for (let depth = 0; depth < segments.length; depth++) {
            const folder = segments.slice(0, depth).join('/');
            expect(patternReachesUnder(pattern, folder ? `${folder}/` : '')).toBe(true);
          }
        }),
        { numRuns: 2000 },
      );
    });

    it('should reach inside a folder only when some path there matches', () => {
      fc.assert(
        fc.property(patternArb, fc.array(segmentArb, { maxLength: 6 }), (pattern, folder) => {
          const prefix = folder.length > 0 ? `${folder.join('/')}/` : '';
          fc.pre(patternReachesUnder(pattern, prefix));
          const path = witness(pattern, folder);
          expect(path.startsWith(prefix)).toBe(true);
          expect(matchesPath(pattern, path)).toBe(true);
        }),
        { numRuns: 2000 },
      );
    });
  });
});
