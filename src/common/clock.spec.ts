import { clock } from './clock';

describe('clock', () => {
  const skew = clock.skewMs;
  afterEach(() => {
    clock.skewMs = skew;
  });

  it('should read the process clock moved by the configured skew', () => {
    clock.skewMs = -600_000;
    const before = Date.now();
    const now = clock.now();
    expect(now).toBeGreaterThanOrEqual(before - 600_000);
    expect(now).toBeLessThanOrEqual(Date.now() - 600_000);
    expect(Math.abs(clock.date().getTime() - (Date.now() - 600_000))).toBeLessThan(1_000);
  });
});
