import type { KeyringService } from '../../crypto/keyring.service';
import type { TransactionRunner } from '../../database/transaction-runner';
import type { RotationMetrics } from '../rotation-metrics';
import type { DueStarter } from './due-starter';
import type { RunExecutor, RunOutcome } from './run-executor';
import type { RunStore } from './run-store';
import { RotationScheduler } from './rotation-scheduler';

/** Due credentials and claimable runs as queues the fakes hand out, as the database would. */
function fakes(options: { due: string[]; claimable?: string[]; executionMs?: number }) {
  const due = [...options.due];
  const claimable = [...(options.claimable ?? [])];
  let running = 0;
  const stats = { maxConcurrent: 0, maxBatch: 0, executed: [] as string[] };
  const starter = {
    startDue: jest.fn((limit: number) =>
      Promise.resolve(due.splice(0, limit).map((id) => ({ run: { id } }))),
    ),
  };
  const runs = {
    claim: jest.fn((_m: unknown, limit: number) => Promise.resolve(claimable.splice(0, limit))),
  };
  const executor = {
    executeAll: jest.fn(async (batch: (string | { run: { id: string } })[]) => {
      running++;
      stats.maxConcurrent = Math.max(stats.maxConcurrent, running);
      stats.maxBatch = Math.max(stats.maxBatch, batch.length);
      await new Promise((resolve) => setTimeout(resolve, options.executionMs ?? 5));
      running--;
      const ids = batch.map((entry) => (typeof entry === 'string' ? entry : entry.run.id));
      stats.executed.push(...ids);
      return ids.map((): RunOutcome => 'succeeded');
    }),
  };
  const transactions = { run: (work: (m: unknown) => Promise<unknown>) => work({}) };
  const keyring = { isSealed: () => false };
  return { starter, runs, executor, transactions, keyring, stats };
}

function scheduler(f: ReturnType<typeof fakes>, config: Record<string, unknown>) {
  return new RotationScheduler(
    { runStarted: () => undefined } as unknown as RotationMetrics,
    f.transactions as unknown as TransactionRunner,
    f.starter as unknown as DueStarter,
    f.runs as unknown as RunStore,
    f.executor as unknown as RunExecutor,
    f.keyring as unknown as KeyringService,
    { schedulerEnabled: true, tickMs: 60_000, concurrency: 4, batchSize: 5, ...config } as never,
  );
}

const ids = (n: number, prefix = 'run') => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

describe('RotationScheduler', () => {
  it('should run every due credential once, in batches, never more than `concurrency` batches at a time', async () => {
    const f = fakes({ due: ids(37) });
    const result = await scheduler(f, { concurrency: 3, batchSize: 4 }).tick();
    expect(f.stats.executed.sort()).toEqual(ids(37).sort());
    expect(f.stats.maxConcurrent).toBe(3);
    expect(f.stats.maxBatch).toBe(4);
    expect(result.outcomes).toEqual({ succeeded: 37 });
  });

  it('should claim runs waiting for a retry or left by a crashed instance once no credential is due', async () => {
    const f = fakes({ due: ids(2, 'due'), claimable: ids(3, 'orphan') });
    await scheduler(f, {}).tick();
    expect(f.stats.executed.sort()).toEqual([...ids(2, 'due'), ...ids(3, 'orphan')].sort());
    expect(f.starter.startDue.mock.invocationCallOrder[0]).toBeLessThan(
      f.runs.claim.mock.invocationCallOrder[0],
    );
  });

  it('should join the tick in progress instead of starting a second one', async () => {
    const f = fakes({ due: ids(8), executionMs: 20 });
    const sut = scheduler(f, {});
    const [a, b] = await Promise.all([sut.tick(), sut.tick()]);
    expect(a).toBe(b);
    expect(f.stats.executed).toHaveLength(8);
  });

  it('should not work while sealed', async () => {
    const f = fakes({ due: ids(3) });
    f.keyring.isSealed = () => true;
    await scheduler(f, {}).tick();
    expect(f.starter.startDue).not.toHaveBeenCalled();
  });

  it('should take no new batch once the application shuts down, and finish the ones it has', async () => {
    const f = fakes({ due: ids(20), executionMs: 30 });
    const sut = scheduler(f, { concurrency: 2, batchSize: 2 });
    const tick = sut.tick();
    await new Promise((resolve) => setTimeout(resolve, 10));
    await sut.onApplicationShutdown();
    const result = await tick;
    expect(f.stats.executed).toHaveLength(4);
    expect(result.outcomes).toEqual({ succeeded: 4 });
    expect(f.starter.startDue).toHaveBeenCalledTimes(2);
  });

  describe('timer', () => {
    beforeEach(() => jest.useFakeTimers({ now: new Date('2026-11-30T00:00:00Z') }));
    afterEach(() => jest.useRealTimers());

    it('should tick on the timer only once the configured interval has passed', () => {
      const f = fakes({ due: [] });
      const sut = scheduler(f, { tickMs: 60_000 });
      const tick = jest.spyOn(sut, 'tick').mockResolvedValue({ outcomes: {} });
      const start = Date.now();
      sut.onTimer(start + 60_000);
      expect(tick).toHaveBeenCalledTimes(1);
      // lastTickAt is set by the tick itself; the spy did not run it, so set the clock instead.
      tick.mockClear();
      (sut as unknown as { lastTickAt: number }).lastTickAt = start + 60_000;
      sut.onTimer(start + 119_000);
      expect(tick).not.toHaveBeenCalled();
      sut.onTimer(start + 120_000);
      expect(tick).toHaveBeenCalledTimes(1);
    });

    it('should not tick when the scheduler is switched off on this instance', () => {
      const f = fakes({ due: [] });
      const sut = scheduler(f, { schedulerEnabled: false });
      const tick = jest.spyOn(sut, 'tick');
      sut.onTimer(Date.now() + 10 * 60_000);
      expect(tick).not.toHaveBeenCalled();
    });
  });
});
