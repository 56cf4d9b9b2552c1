import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { Interval } from '@nestjs/schedule';
import { loggableError } from '../../common/errors/loggable-error';
import { rotationConfig } from '../../config/rotation.config';
import { KeyringService } from '../../crypto/keyring.service';
import { isDeadlock } from '../../database/dialect';
import { TransactionRunner } from '../../database/transaction-runner';
import type { RotationRun } from '../entities/rotation-run.entity';
import { RotationMetrics } from '../rotation-metrics';
import { DueStarter } from './due-starter';
import { OpenedRun, RunExecutor, RunOutcome } from './run-executor';
import { RunStore } from './run-store';

const TIMER_MS = 1000;

export interface TickResult {
  /** Runs this tick worked on, by how each left the executor. */
  outcomes: Partial<Record<RunOutcome, number>>;
}

/**
 * Every instance ticks (every minute by default): it opens runs for due credentials, claims runs
 * that are waiting for a retry or were left by a crashed instance, and works on them a batch at a
 * time, `concurrency` batches at once, until nothing is left for it. Runs started from the API are executed here
 * at once, outside the tick.
 */
@Injectable()
export class RotationScheduler implements OnApplicationShutdown {
  private readonly logger = new Logger(RotationScheduler.name);
  private ticking?: Promise<TickResult>;
  private lastTickAt = 0;
  private stopping = false;
  /** Runs executing on this instance, started by ticks or by the API. */
  private readonly active = new Map<string, Promise<RunOutcome>>();

  constructor(
    private readonly metrics: RotationMetrics,
    private readonly transactions: TransactionRunner,
    private readonly starter: DueStarter,
    private readonly runs: RunStore,
    private readonly executor: RunExecutor,
    private readonly keyring: KeyringService,
    @Inject(rotationConfig.KEY) private readonly config: ConfigType<typeof rotationConfig>,
  ) {}

  /** @Interval takes a constant: a 1 s timer that ticks once the configured interval passed. */
  @Interval('rotation-tick', TIMER_MS)
  onTimer(now = Date.now()): void {
    if (!this.config.schedulerEnabled || now - this.lastTickAt < this.config.tickMs) return;
    void this.tick();
  }

  /** One tick; joins the tick in progress. Tests call it directly. */
  tick(): Promise<TickResult> {
    this.ticking ??= this.work()
      .catch((error: unknown) => {
        this.logger.error({ err: loggableError(error) }, 'Rotation tick failed');
        return { outcomes: {} };
      })
      .finally(() => (this.ticking = undefined));
    return this.ticking;
  }

  /** Executes a run this instance opened and claimed (API), without waiting for a tick. */
  runNow(run: Pick<RotationRun, 'id' | 'trigger'>): Promise<RunOutcome> {
    this.metrics.runStarted(run.trigger);
    return this.track(run.id);
  }

  /** Resolves when every run executing here has left the executor (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.ticking || this.active.size > 0) {
      await Promise.allSettled([this.ticking, ...this.active.values()]);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.idle();
  }

  private async work(): Promise<TickResult> {
    this.lastTickAt = Date.now();
    const outcomes: TickResult['outcomes'] = {};
    if (this.keyring.isSealed()) return { outcomes };
    const lane = async () => {
      while (!this.stopping) {
        let batch: (string | OpenedRun)[];
        try {
          batch = await this.nextBatch();
        } catch (error) {
          // Two instances' starters can meet in a deadlock; the loser looks again at once.
          if (isDeadlock(error)) continue;
          throw error;
        }
        if (batch.length === 0) return;
        for (const outcome of await this.trackAll(batch)) {
          outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
        }
      }
    };
    await Promise.all(Array.from({ length: this.config.concurrency }, lane));
    return { outcomes };
  }

  /**
   * Runs for due credentials, opened and claimed here with the credential and policy each was
   * opened under; once none is due, runs waiting for a retry or left by a crashed instance.
   */
  private async nextBatch(): Promise<(string | OpenedRun)[]> {
    const size = this.config.batchSize;
    const started = await this.starter.startDue(size);
    if (started.length > 0) return started;
    const claimed = await this.transactions.run((m) => this.runs.claim(m, size));
    // A run executing here already (its claim ran out during a slow hook) goes on where it is.
    return claimed.filter((id) => !this.active.has(id));
  }

  private track(runId: string): Promise<RunOutcome> {
    return this.active.get(runId) ?? this.trackAll([runId]).then(([outcome]) => outcome);
  }

  /** Executes a batch, each of its runs known as executing here until it leaves the executor. */
  private trackAll(batch: readonly (string | OpenedRun)[]): Promise<RunOutcome[]> {
    const ids = batch.map((entry) => (typeof entry === 'string' ? entry : entry.run.id));
    const execution = this.executor.executeAll(batch).catch((error: unknown): RunOutcome[] => {
      this.logger.error({ runIds: ids, err: loggableError(error) }, 'Rotation batch stopped');
      return ids.map(() => 'lost');
    });
    ids.forEach((id, i) => {
      const outcome = execution.then((outcomes) => outcomes[i]);
      this.active.set(id, outcome);
      void outcome.finally(() => this.active.delete(id));
    });
    return execution;
  }
}
