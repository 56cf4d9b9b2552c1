import { addDuration, durationSeconds, durationSecondsFrom, isIsoDuration } from './duration';

describe('ISO 8601 durations', () => {
  it.each([
    ['PT0S', 0],
    ['PT1M', 60],
    ['PT24H', 86_400],
    ['P7D', 604_800],
    ['P1W', 604_800],
    ['P1DT12H', 129_600],
  ])('should read %s as %d seconds', (text, seconds) => {
    expect(isIsoDuration(text)).toBe(true);
    expect(durationSeconds(text)).toBe(seconds);
  });

  it('should count months from the given date', () => {
    expect(durationSeconds('P1M', new Date('2026-02-01T00:00:00Z'))).toBe(28 * 86_400);
  });

  it.each(['', 'P', 'PT', '24h', 'P1.5D', 'PT-1S', 'p1d', ' P1D', 'P1DT'])(
    'should refuse %j',
    (text) => {
      expect(isIsoDuration(text)).toBe(false);
      expect(() => durationSeconds(text)).toThrow('not an ISO 8601 duration');
    },
  );
});

describe('addDuration', () => {
  it.each([
    ['2026-03-10T12:00:00.250Z', 'PT1M', '2026-03-10T12:01:00.250Z'],
    ['2026-03-10T12:00:00Z', 'P1DT2H3M4S', '2026-03-11T14:03:04Z'],
    ['2026-03-10T12:00:00Z', 'P2W', '2026-03-24T12:00:00Z'],
    ['2026-01-31T08:00:00Z', 'P1M', '2026-02-28T08:00:00Z'],
    ['2028-01-31T08:00:00Z', 'P1M', '2028-02-29T08:00:00Z'],
    ['2026-03-31T08:00:00Z', 'P1M', '2026-04-30T08:00:00Z'],
    ['2026-11-15T08:00:00Z', 'P3M', '2027-02-15T08:00:00Z'],
    ['2028-02-29T00:00:00Z', 'P1Y', '2029-02-28T00:00:00Z'],
    ['2026-12-31T23:00:00Z', 'P1Y1M1D', '2028-02-01T23:00:00Z'],
    ['2026-03-28T12:00:00Z', 'P1D', '2026-03-29T12:00:00Z'],
  ])('should add to %s the duration %s: %s', (from, duration, expected) => {
    expect(addDuration(new Date(from), duration).toISOString()).toBe(
      new Date(expected).toISOString(),
    );
  });

  it('should count seconds from the given date', () => {
    expect(durationSecondsFrom(new Date('2026-02-01T00:00:00Z'), 'P1M')).toBe(28 * 86_400);
    expect(durationSecondsFrom(new Date('2026-02-01T00:00:00Z'), 'PT90M')).toBe(5400);
  });

  it('should refuse what is not a duration', () => {
    expect(() => addDuration(new Date(), '1d')).toThrow('not an ISO 8601 duration');
  });
});
