import type { RetryPolicy } from '../config/database.config';

/** The longest pause between two attempts, however many came before. */
const MAX_DELAY_MS = 2000;

/**
 * The pause before re-run number `attempt + 1`: exponential from the policy's base, with half of
 * it random, so that two transactions that conflicted do not meet again in lockstep.
 */
export function retryDelayMs(policy: RetryPolicy, attempt: number, random = Math.random): number {
  const ceiling = Math.min(MAX_DELAY_MS, policy.baseMs * 2 ** attempt);
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}
