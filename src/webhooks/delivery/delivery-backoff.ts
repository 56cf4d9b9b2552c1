import { randomInt } from 'node:crypto';

/**
 * How long a failed delivery waits before attempt `attempts + 1`: base × 2^(attempts-1), at most
 * `maxMs`, with ±20 % jitter so deliveries that failed together (a receiver that was down) do not
 * all come back in the same second.
 */
export function deliveryBackoffMs(
  attempts: number,
  baseMs: number,
  maxMs: number,
  jitter: () => number = () => randomInt(0, 401) / 1000,
): number {
  const exponential = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempts - 1));
  return Math.min(maxMs, Math.round(exponential * (0.8 + jitter())));
}
