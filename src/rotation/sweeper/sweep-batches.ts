import type { IsolationLevel } from 'typeorm/driver/types/IsolationLevel';

/** Rows one sweep transaction takes: short transactions, few locks held at once. */
export const SWEEP_BATCH = 100;

/** Batches one pass runs at most, so a huge backlog is worked off over several passes. */
export const SWEEP_MAX_BATCHES = 50;

/**
 * Sweeps lock the rows they take with SKIP LOCKED. Under REPEATABLE READ that locking read would
 * also take gap locks over the scanned index range and hold up unrelated inserts (a new pending
 * version) until the batch commits; READ COMMITTED locks only the rows taken.
 */
export const SWEEP_ISOLATION: IsolationLevel = 'READ COMMITTED';

/** Runs batches until one comes back short (nothing more for this pass) or the cap is reached. */
export async function inBatches(batch: () => Promise<number>): Promise<number> {
  let total = 0;
  for (let i = 0; i < SWEEP_MAX_BATCHES; i++) {
    const count = await batch();
    total += count;
    if (count < SWEEP_BATCH) break;
  }
  return total;
}
