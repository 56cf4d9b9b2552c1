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

/** What one batch did: rows it took (whether the pass goes on) and changes it reported. */
export interface BatchOutcome {
  taken: number;
  reported: number;
}

/**
 * Runs batches until one takes fewer rows than it may (nothing more for this pass) or the cap is
 * reached; returns how many changes were reported.
 */
export async function inBatches(batch: () => Promise<BatchOutcome>): Promise<number> {
  let reported = 0;
  for (let i = 0; i < SWEEP_MAX_BATCHES; i++) {
    const outcome = await batch();
    reported += outcome.reported;
    if (outcome.taken < SWEEP_BATCH) break;
  }
  return reported;
}
