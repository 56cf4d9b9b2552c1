import { durationSeconds, isIsoDuration } from './duration';

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
