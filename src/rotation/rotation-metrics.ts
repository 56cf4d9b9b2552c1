import { Injectable, Logger } from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { loggableError } from '../common/errors/loggable-error';
import { withTimeout } from '../common/with-timeout';
import { HttpMetrics } from '../metrics/http-metrics';
import { RUN_TRIGGERS, RunTrigger } from './entities/rotation-run.entity';
import { RotationScheduleQuery, ScheduleCounts } from './schedule/rotation-schedule.query';

export type RunOutcome = 'succeeded' | 'failed';
const OUTCOMES: readonly RunOutcome[] = ['succeeded', 'failed'];

/** A scrape waits this long for the schedule counts, then exports the last ones it had. */
export const SCHEDULE_SCRAPE_TIMEOUT_MS = 1000;
/** Counts this fresh are reused, so the four gauges of one scrape cost one statement. */
const FRESH_MS = 1000;

/**
 * Rotation counters (called by the engine) and schedule gauges, in the instance's metrics
 * registry. The gauges are read from the database at scrape time and are the same on every
 * instance; the counters count the runs of this instance.
 */
@Injectable()
export class RotationMetrics {
  private readonly logger = new Logger(RotationMetrics.name);
  private readonly finished: Counter<'trigger' | 'outcome'>;
  private readonly started: Counter<'trigger'>;
  private last: ScheduleCounts | null = null;
  private lastAt = 0;
  /** The counts statement in flight; a scrape that timed out leaves it running, never a second. */
  private reading?: Promise<void>;

  constructor(
    metrics: HttpMetrics,
    private readonly schedule: RotationScheduleQuery,
  ) {
    const registers = [metrics.registry];
    this.finished = new Counter({
      name: 'custos_rotations_total',
      help: 'Rotation runs finished by this instance, by trigger and outcome',
      labelNames: ['trigger', 'outcome'],
      registers,
    });
    this.started = new Counter({
      name: 'custos_rotations_started_total',
      help: 'Rotation runs started by this instance, by trigger',
      labelNames: ['trigger'],
      registers,
    });
    // Every series from the start, so rate() and alerts see a 0 before the first failure.
    for (const trigger of RUN_TRIGGERS) {
      this.started.inc({ trigger }, 0);
      for (const outcome of OUTCOMES) this.finished.inc({ trigger, outcome }, 0);
    }
    const gauge = (name: string, help: string, pick: (counts: ScheduleCounts) => number) => {
      const read = () => this.read();
      return new Gauge({
        name,
        help,
        registers,
        async collect() {
          const counts = await read();
          // Never known (the database has not answered yet): NaN, Prometheus' "unknown", which
          // no threshold alert mistakes for a count, rather than a false 0.
          this.set(counts ? pick(counts) : Number.NaN);
        },
      });
    };
    gauge(
      'custos_rotation_runs_in_flight',
      'Rotation runs running or waiting for a value',
      (c) => c.inFlight,
    );
    gauge(
      'custos_rotations_due',
      'Credentials due for rotation, those in flight included',
      (c) => c.due,
    );
    gauge('custos_rotations_overdue', 'Credentials overdue for rotation', (c) => c.overdue);
    gauge(
      'custos_rotation_oldest_overdue_seconds',
      'How long the longest-overdue credential has been overdue (0: none is)',
      (c) => c.oldestOverdueSeconds,
    );
  }

  runStarted(trigger: RunTrigger): void {
    this.started.inc({ trigger });
  }

  runFinished(trigger: RunTrigger, outcome: RunOutcome): void {
    this.finished.inc({ trigger, outcome });
  }

  /**
   * The schedule counts for a scrape: fresh ones, or those of the statement in flight if it
   * answers within SCHEDULE_SCRAPE_TIMEOUT_MS, else the last known (a slow database must not
   * make the whole scrape time out).
   */
  private async read(): Promise<ScheduleCounts | null> {
    if (Date.now() - this.lastAt < FRESH_MS) return this.last;
    this.reading ??= this.schedule
      .counts()
      .then((counts) => {
        this.last = counts;
        this.lastAt = Date.now();
      })
      .catch((error: unknown) => {
        this.logger.warn({ err: loggableError(error) }, 'Rotation schedule counts failed');
      })
      .finally(() => (this.reading = undefined));
    await withTimeout(this.reading, SCHEDULE_SCRAPE_TIMEOUT_MS).catch(() => undefined);
    return this.last;
  }
}
