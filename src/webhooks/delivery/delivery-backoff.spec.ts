import { deliveryBackoffMs } from './delivery-backoff';

describe('deliveryBackoffMs', () => {
  const none = () => 0.2;

  it('should double from the base with each failed attempt', () => {
    expect([1, 2, 3, 4].map((n) => deliveryBackoffMs(n, 10_000, 3_600_000, none))).toEqual([
      10_000, 20_000, 40_000, 80_000,
    ]);
  });

  it('should stop growing at the maximum', () => {
    expect(deliveryBackoffMs(30, 10_000, 3_600_000, none)).toBe(3_600_000);
  });

  it('should spread retries by ±20 % and never beyond the maximum', () => {
    expect(deliveryBackoffMs(2, 10_000, 3_600_000, () => 0)).toBe(16_000);
    expect(deliveryBackoffMs(2, 10_000, 3_600_000, () => 0.4)).toBe(24_000);
    expect(deliveryBackoffMs(30, 10_000, 3_600_000, () => 0.4)).toBe(3_600_000);
  });

  it('should stay within the jitter band with the real random source', () => {
    for (let i = 0; i < 200; i++) {
      const ms = deliveryBackoffMs(3, 1000, 60_000);
      expect(ms).toBeGreaterThanOrEqual(3200);
      expect(ms).toBeLessThanOrEqual(4800);
    }
  });
});
