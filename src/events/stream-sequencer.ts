import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { Interval } from '@nestjs/schedule';
import { EntityManager } from 'typeorm';
import { loggableError } from '../common/errors/loggable-error';
import { eventsConfig } from '../config/events.config';
import { Dialect, dialectOf, forUpdateSkipLocked, isDeadlock } from '../database/dialect';
import { DirectSql } from '../database/direct-sql';
import { TransactionRunner } from '../database/transaction-runner';

/** How often the schedule looks whether EVENTS_SEQUENCE_INTERVAL_MS has passed. */
export const SEQUENCE_TICK_MS = 50;
/** Events numbered per transaction: short transactions, one UPDATE each. */
export const SEQUENCE_BATCH = 200;
/** Batches of one pass at most, so a large backlog is worked off over several passes. */
const MAX_BATCHES = 50;

/**
 * Gives committed events their `stream_seq`, consecutively, in the order this sees them
 * committed (seq order among those). Rows of transactions still open are invisible to it
 * (READ COMMITTED), so they are numbered later, after events that committed first: a reader
 * that has seen number n has seen every event numbered up to n, and none gets a number below
 * one already visible.
 *
 * Every instance runs it; the counter row in `event_stream_head` is locked for each batch, so
 * batches follow one another and never share numbers. An instance that finds the counter locked
 * (SKIP LOCKED) leaves the work to the holder. On Galera, two nodes numbering at once conflict at
 * commit: one batch is rolled back whole and its rows are numbered by the next pass.
 */
@Injectable()
export class StreamSequencer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(StreamSequencer.name);
  private lastAt = 0;
  private running?: Promise<number>;
  private stopping = false;

  constructor(
    private readonly transactions: TransactionRunner,
    private readonly sql: DirectSql,
    @Inject(eventsConfig.KEY) private readonly config: ConfigType<typeof eventsConfig>,
  ) {}

  /** The counter row, should it be missing (deleted by hand): from the numbers given out. */
  async onApplicationBootstrap(): Promise<void> {
    await this.transactions.run((manager) =>
      manager.query(
        `${insertIgnore(dialectOf(manager))} INTO event_stream_head (id, last_stream_seq) ` +
          'SELECT 1, COALESCE(MAX(stream_seq), 0) FROM event_outbox',
      ),
    );
  }

  /**
   * A fixed schedule that checks the configured interval: @Interval takes a constant, and the
   * tick costs nothing until a pass is due.
   */
  @Interval('event-stream-sequencer', SEQUENCE_TICK_MS)
  tick(now = Date.now()): Promise<number> | null {
    if (this.stopping || this.running) return null;
    if (now - this.lastAt < this.config.sequenceIntervalMs) return null;
    this.lastAt = now;
    this.running = this.sequence()
      .catch((error: unknown) => {
        // A batch that lost to another node is rolled back whole; the next pass numbers it.
        if (isDeadlock(error)) this.logger.debug('Event numbering lost a race; retrying');
        else this.logger.warn({ err: loggableError(error) }, 'Event numbering failed');
        return 0;
      })
      .finally(() => (this.running = undefined));
    return this.running;
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.running;
  }

  /** One pass: numbers what is committed and unnumbered; returns how many this call numbered. */
  async sequence(): Promise<number> {
    // The idle case, every pass of every instance: one indexed lookup, no transaction.
    const waiting = await this.sql.select<unknown>(
      'SELECT seq FROM event_outbox WHERE stream_seq IS NULL LIMIT 1',
      [],
    );
    if (waiting.length === 0) return 0;
    let numbered = 0;
    for (let i = 0; i < MAX_BATCHES; i++) {
      const batch = await this.transactions.run(
        (manager) => this.numberBatch(manager),
        'READ COMMITTED',
      );
      numbered += batch;
      if (batch < SEQUENCE_BATCH) break;
    }
    return numbered;
  }

  private async numberBatch(manager: EntityManager): Promise<number> {
    const dialect = dialectOf(manager);
    const [head] = await manager.query<{ last: string | number }[]>(
      `SELECT last_stream_seq AS last FROM event_stream_head WHERE id = 1${forUpdateSkipLocked(dialect)}`,
    );
    // Locked: another instance is numbering right now, and will take these rows too.
    if (!head) return 0;
    const rows = await manager.query<{ seq: string | number }[]>(
      `SELECT seq FROM event_outbox WHERE stream_seq IS NULL ORDER BY seq LIMIT ${SEQUENCE_BATCH}`,
    );
    if (rows.length === 0) return 0;
    let next = BigInt(head.last);
    const numbers = rows.map((row) => [String(row.seq), String((next += 1n))] as const);
    const runner = manager.queryRunner;
    if (!runner) throw new Error('StreamSequencer needs the EntityManager of a transaction');
    // The structured result, for the count of changed rows in both dialects.
    const result = (await runner.query(
      `UPDATE event_outbox SET stream_seq = CASE seq ${numbers.map(() => 'WHEN ? THEN ?').join(' ')} END ` +
        `WHERE seq IN (${numbers.map(() => '?').join(', ')}) AND stream_seq IS NULL`,
      [...numbers.flat(), ...numbers.map(([seq]) => seq)],
      true,
    )) as { affected?: number };
    const changed = result.affected ?? 0;
    // Only the counter's holder numbers rows, so all of them must change; anything else would
    // leave a gap in the numbers: give this batch up (roll it back) rather than commit one.
    if (changed !== numbers.length) {
      throw new Error(`numbered ${changed} of ${numbers.length} events; batch rolled back`);
    }
    await manager.query('UPDATE event_stream_head SET last_stream_seq = ? WHERE id = 1', [
      String(next),
    ]);
    return numbers.length;
  }
}

function insertIgnore(dialect: Dialect): string {
  return dialect === 'mariadb' ? 'INSERT IGNORE' : 'INSERT OR IGNORE';
}
