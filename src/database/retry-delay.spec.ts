import { retryDelayMs } from './retry-delay';

describe('retryDelayMs', () => {
  const policy = { attempts: 4, baseMs: 20 };

  it('should double the ceiling with each attempt, half of it random', () => {
    expect([0, 1, 2, 3].map((attempt) => retryDelayMs(policy, attempt, () => 0))).toEqual([
      10, 20, 40, 80,
    ]);
    expect([0, 1, 2, 3].map((attempt) => retryDelayMs(policy, attempt, () => 1))).toEqual([
      20, 40, 80, 160,
    ]);
  });

  it('should stay between half the ceiling and the ceiling', () => {
    for (let i = 0; i < 200; i++) {
      const delay = retryDelayMs(policy, 2);
      expect(delay).toBeGreaterThanOrEqual(40);
      expect(delay).toBeLessThanOrEqual(80);
    }
  });

  it('should never pause longer than two seconds', () => {
    expect(retryDelayMs({ attempts: 20, baseMs: 1000 }, 19, () => 1)).toBe(2000);
  });
});
