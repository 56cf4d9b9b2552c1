import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { Interval } from '@nestjs/schedule';
import { loggableError } from '../../common/errors/loggable-error';
import { rotationConfig } from '../../config/rotation.config';
import { KeyringService } from '../../crypto/keyring.service';
import { TransactionRunner } from '../../database/transaction-runner';
import type { RotationRun } from '../entities/rotation-run.entity';
import { RotationMetrics } from '../rotation-metrics';
import { DueStarter } from './due-starter';
import { OpenedRun, RunExecutor, RunOutcome } from './run-executor';
import { RunStore } from './run-store';

const TIMER_MS = 1000;
/** Due credentials the starter opens runs for at once, at the least. */
const STARTER_BATCH = 32;

export interface TickResult {
  /** Runs this tick worked on, by how each left the executor. */
  outcomes: Partial<Record<RunOutcome, number>>;
}

/**
 * Every instance ticks (every minute by default): it opens runs for due credentials, claims runs
 * that are waiting for a retry or were left by a crashed instance, and works on them with
 * bounded concurrency until nothing is left for it. Runs started from the API are executed here
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
    const queue: string[] = [];
    /** Runs this tick opened, as written: their execution need not read them back. */
    const opened = new Map<string, OpenedRun>();
    let exhausted = false;
    let refilling: Promise<void> | undefined;
    const refill = async () => {
      // Each start is a transaction with a fixed cost (lock, audit append, commit): a batch of
      // several runs per worker spreads it; the runs wait claimed, well within their claim.
      const room = Math.max(this.config.concurrency * 2, STARTER_BATCH);
      const started = await this.starter.startDue(room);
      for (const run of started) opened.set(run.run.id, run);
      let ids = started.map(({ run }) => run.id);
      if (ids.length === 0) ids = await this.transactions.run((m) => this.runs.claim(m, room));
      const fresh = ids.filter((id) => !this.active.has(id));
      if (fresh.length === 0) exhausted = true;
      queue.push(...fresh);
    };
    const worker = async () => {
      while (!this.stopping) {
        if (queue.length === 0) {
          if (exhausted) return;
          refilling ??= refill().finally(() => (refilling = undefined));
          await refilling;
          continue;
        }
        const id = queue.shift()!;
        const run = opened.get(id);
        opened.delete(id);
        const outcome = await this.track(id, run);
        outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
      }
    };
    try {
      await Promise.all(Array.from({ length: this.config.concurrency }, worker));
    } finally {
      // Claimed but not started (shutdown): hand them back rather than wait for the claim to expire.
      if (queue.length > 0) await this.transactions.run((m) => this.runs.release(m, queue));
    }
    return { outcomes };
  }

  private track(runId: string, opened?: OpenedRun): Promise<RunOutcome> {
    const existing = this.active.get(runId);
    if (existing) return existing;
    const execution = this.executor
      .execute(runId, opened)
      .catch((error: unknown): RunOutcome => {
        this.logger.error({ runId, err: loggableError(error) }, 'Rotation run stopped');
        return 'lost';
      })
      .finally(() => this.active.delete(runId));
    this.active.set(runId, execution);
    return execution;
  }
}
