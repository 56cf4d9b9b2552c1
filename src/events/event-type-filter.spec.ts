import { isTypePattern, matchesType, typeFilterOf, typeFilterSql } from './event-type-filter';

describe('event type filters', () => {
  it.each([
    [undefined, 'rotation.succeeded'],
    [[], 'credential.expiring'],
    [['*'], 'anything.at.all'],
    [['rotation.failed', '*'], 'credential.expiring'],
  ])('should let every type through for %j', (types, type) => {
    expect(typeFilterOf(types)).toBeNull();
    expect(matchesType(typeFilterOf(types), type)).toBe(true);
  });

  it.each([
    ['rotation.*', 'rotation.succeeded', true],
    ['rotation.*', 'rotation.adoption_lagging', true],
    ['rotation.*', 'rotation', false],
    ['rotation.*', 'rotations.succeeded', false],
    ['credential.*', 'credential.version.revoked', true],
    ['credential.version.*', 'credential.expiring', false],
    ['rotation.failed', 'rotation.failed', true],
    ['rotation.failed', 'rotation.failed.extra', false],
    ['rotation.failed', 'rotation.succeeded', false],
  ])('should match %s against %s: %s', (pattern, type, expected) => {
    expect(matchesType(typeFilterOf([pattern]), type)).toBe(expected);
  });

  it('should match any of several patterns', () => {
    const filter = typeFilterOf(['rotation.failed', 'credential.*']);

    expect(
      ['rotation.failed', 'credential.expiring', 'rotation.started'].map((t) =>
        matchesType(filter, t),
      ),
    ).toEqual([true, true, false]);
  });

  it.each([
    '',
    'Rotation.*',
    'rotation.',
    'rotation.**',
    '*.failed',
    'rotation.*.x',
    "x' OR 1=1",
    'a'.repeat(65),
    7,
  ])('should refuse the pattern %j', (pattern) => {
    expect(isTypePattern(pattern)).toBe(false);
  });

  it('should throw on a malformed pattern instead of widening the filter', () => {
    expect(() => typeFilterOf(['rotation.*', 'bad pattern'])).toThrow('not an event type pattern');
  });

  it('should build the same filter in SQL, with LIKE wildcards of a prefix taken literally', () => {
    const filter = typeFilterOf(['rotation.failed', 'credential.version.*', 'due_soon.*'])!;

    expect(typeFilterSql(filter)).toEqual({
      sql: "(type IN (?) OR type LIKE ? ESCAPE '!' OR type LIKE ? ESCAPE '!')",
      parameters: ['rotation.failed', 'credential.version.%', 'due!_soon.%'],
    });
  });
});
