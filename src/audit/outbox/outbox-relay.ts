import { withTimeout } from '../../common/with-timeout';
import { loggableError } from '../../common/errors/loggable-error';
import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { Interval } from '@nestjs/schedule';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, In } from 'typeorm';
import { auditConfig } from '../../config/audit.config';
import { LeaseService } from '../../database/lease.service';
import { TransactionRunner } from '../../database/transaction-runner';
import { OutboxMessage } from '../entities/outbox-message.entity';
import { AuditMetrics } from '../audit-metrics';
import { AuditSink } from './sinks/audit-sink';
import { FileSink } from './sinks/file.sink';
import { StdoutSink } from './sinks/stdout.sink';
import { clock } from '../../common/clock';

const BATCH = 500;
const DELIVERY_TIMEOUT_MS = 10_000;
const MAX_BACKOFF_MS = 60_000;

/** How often the relay looks whether AUDIT_RELAY_INTERVAL_MS has passed. */
export const RELAY_TICK_MS = 100;

/**
 * Delivers outbox messages to their sinks in id order, at least once, off the request path:
 * a slow or failing sink only grows its backlog. One instance at a time relays a sink (lease),
 * and no database transaction is held while a sink is written to.
 */
@Injectable()
export class OutboxRelay implements OnApplicationShutdown {
  private readonly logger = new Logger(OutboxRelay.name);
  private readonly sinks: AuditSink[];
  private readonly retryAt = new Map<string, number>();
  private readonly failures = new Map<string, number>();
  private running?: Promise<void>;
  private queued?: Promise<void>;
  private lastRunAt = 0;
  private stopping = false;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly transactions: TransactionRunner,
    private readonly leases: LeaseService,
    private readonly metrics: AuditMetrics,
    @Inject(auditConfig.KEY) private readonly config: ConfigType<typeof auditConfig>,
  ) {
    this.sinks = config.sinks.map((kind) =>
      kind === 'file' ? new FileSink(config.filePath) : new StdoutSink(),
    );
  }

  /**
   * A fixed schedule that checks the configured interval: @Interval takes a constant, and the
   * tick costs nothing until a pass is due.
   */
  @Interval('audit-outbox-relay', RELAY_TICK_MS)
  scheduledTick(now = Date.now()): Promise<void> | null {
    if (this.stopping || this.sinks.length === 0) return null;
    if (now - this.lastRunAt < this.config.relayIntervalMs) return null;
    this.lastRunAt = now;
    return this.tick();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.queued;
    await this.running;
  }

  /**
   * One pass over every sink that starts after this call, so that what the caller committed
   * before it is relayed; runs are never concurrent within an instance. A pass already under way
   * may have read the outbox before that commit: one more follows it (and callers meanwhile share
   * that one).
   */
  tick(): Promise<void> {
    if (this.running) {
      this.queued ??= this.running.then(() => {
        this.queued = undefined;
        return this.stopping ? undefined : this.tick();
      });
      return this.queued;
    }
    this.running = this.relayAll().finally(() => (this.running = undefined));
    return this.running;
  }

  /** Messages waiting per sink (for metrics and health). */
  async backlog(): Promise<Record<string, number>> {
    const rows = await this.dataSource
      .getRepository(OutboxMessage)
      .createQueryBuilder('m')
      .select('m.sink', 'sink')
      .addSelect('COUNT(*)', 'count')
      .groupBy('m.sink')
      .getRawMany<{ sink: string; count: string | number }>();
    const backlog = Object.fromEntries(this.config.sinks.map((sink) => [sink, 0]));
    for (const row of rows) backlog[row.sink] = Number(row.count);
    for (const [sink, count] of Object.entries(backlog)) this.metrics.backlog.set({ sink }, count);
    return backlog;
  }

  private async relayAll(): Promise<void> {
    for (const sink of this.sinks) {
      try {
        while (await this.relayBatch(sink)) {
          // keep draining while full batches go through
        }
      } catch (error) {
        this.logger.error(
          { err: loggableError(error) },
          `Outbox relay for sink "${sink.name}" failed`,
        );
      }
    }
    await this.backlog().catch(() => undefined);
  }

  /** Delivers one batch; true when a full batch went through and more may wait. */
  private async relayBatch(sink: AuditSink): Promise<boolean> {
    if (Date.now() < (this.retryAt.get(sink.name) ?? 0)) return false;
    if (
      !(await this.leases.acquire(
        `outbox:${sink.name}`,
        this.config.relayIntervalMs * 10 + DELIVERY_TIMEOUT_MS,
      ))
    ) {
      return false;
    }
    const messages = await this.dataSource.getRepository(OutboxMessage).find({
      where: { sink: sink.name },
      order: { id: 'ASC' },
      take: BATCH,
    });
    if (messages.length === 0) return false;
    const ids = messages.map((m) => m.id);
    try {
      await withTimeout(
        sink.deliver(messages.map((m) => m.payload)),
        DELIVERY_TIMEOUT_MS,
        `sink did not answer within ${DELIVERY_TIMEOUT_MS} ms`,
      );
    } catch (error) {
      await this.recordFailure(sink, ids, messages[0].attempts + 1, error);
      return false;
    }
    this.failures.delete(sink.name);
    this.retryAt.delete(sink.name);
    await this.transactions.run((manager) => manager.delete(OutboxMessage, { id: In(ids) }));
    this.metrics.delivered.inc({ sink: sink.name }, messages.length);
    return messages.length === BATCH;
  }

  private async recordFailure(
    sink: AuditSink,
    ids: string[],
    attempts: number,
    error: unknown,
  ): Promise<void> {
    const failures = (this.failures.get(sink.name) ?? 0) + 1;
    this.failures.set(sink.name, failures);
    const delay = Math.min(MAX_BACKOFF_MS, this.config.relayIntervalMs * 2 ** failures);
    this.retryAt.set(sink.name, Date.now() + delay);
    this.metrics.sinkFailures.inc({ sink: sink.name });
    const message = error instanceof Error ? error.message : String(error);
    this.logger.warn(
      `Audit sink "${sink.name}" failed (attempt ${attempts}), retrying in ${delay} ms: ${message}`,
    );
    await this.transactions.run((manager) =>
      manager.update(
        OutboxMessage,
        { id: In(ids) },
        {
          attempts,
          lastError: message.slice(0, 512),
          nextAttemptAt: new Date(clock.now() + delay),
        },
      ),
    );
  }
}
