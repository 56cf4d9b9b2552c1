import { VersionRetirer } from './version-retirer';

describe('VersionRetirer backoff', () => {
  const sut = new VersionRetirer(
    {} as never,
    {} as never,
    {} as never,
    {} as never,
    { retryBackoffMs: 10_000, failedRetryAfterSeconds: 3600 } as never,
  );

  it('should double the retry backoff with each failure, up to the failed-run retry time', () => {
    expect([1, 2, 3, 4].map((n) => sut.backoffMs(n))).toEqual([10_000, 20_000, 40_000, 80_000]);
    expect(sut.backoffMs(9)).toBe(2_560_000);
    expect(sut.backoffMs(10)).toBe(3_600_000);
    expect(sut.backoffMs(500)).toBe(3_600_000);
  });
});
