import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { Interval } from '@nestjs/schedule';
import { loggableError } from '../../common/errors/loggable-error';
import { eventsConfig } from '../../config/events.config';
import { OutboxReader, StreamEvent } from '../outbox-reader';
import { EventStreamClosingError } from './event-stream.errors';

/** How often the hub looks whether EVENTS_STREAM_POLL_MS has passed. */
export const STREAM_TICK_MS = 50;
/** Events per read, for the poll and for a listener catching up from further back. */
export const STREAM_PAGE = 500;
/** Recent events kept for listeners that are a little behind (consecutive, ending at the head). */
const RECENT_MAX = 2000;
/** Pages one poll reads at most; a larger backlog is read over the next polls. */
const MAX_PAGES = 20;

/** What the hub needs of a connected listener. */
export interface StreamListener {
  close(reason: string): void;
}

/** A wait for news that its owner can cut short (a listener that went away). */
export interface NewsWait {
  promise: Promise<void>;
  wakeUp(): void;
}

/**
 * One poller per instance for all its listeners: while anyone listens, it reads the events
 * numbered since its last read every EVENTS_STREAM_POLL_MS (one query whatever the number of
 * listeners), keeps the recent ones, and wakes the listeners waiting for news. Every instance
 * reads the database itself, so a listener hears of events raised on any instance; nothing is
 * passed from instance to instance in memory. With no listener it reads nothing at all.
 */
@Injectable()
export class EventStreamHub implements OnModuleDestroy {
  private readonly logger = new Logger(EventStreamHub.name);
  private readonly listeners = new Set<StreamListener>();
  private readonly waiting = new Set<() => void>();
  /** The last stream sequence read; null until someone listens after a quiet spell. */
  private head: bigint | null = null;
  private starting?: Promise<bigint>;
  /** Consecutive events ending at `head`. */
  private recent: StreamEvent[] = [];
  private polling?: Promise<number>;
  private lastPollAt = 0;
  private closing = false;

  constructor(
    private readonly reader: OutboxReader,
    @Inject(eventsConfig.KEY) private readonly config: ConfigType<typeof eventsConfig>,
  ) {}

  get listenerCount(): number {
    return this.listeners.size;
  }

  /**
   * Adds a listener. The first after a quiet spell starts afresh from the database's latest
   * event: what the hub kept from before is stale, and "now" must mean now.
   */
  join(listener: StreamListener): void {
    if (this.closing) throw new EventStreamClosingError();
    if (this.listeners.size === 0) {
      this.head = null;
      this.recent = [];
    }
    this.listeners.add(listener);
  }

  leave(listener: StreamListener): void {
    this.listeners.delete(listener);
  }

  /** The last event this instance has read: where a listener without Last-Event-ID starts. */
  position(): Promise<bigint> {
    if (this.head !== null) return Promise.resolve(this.head);
    this.starting ??= this.reader
      .latest()
      .then((latest) => (this.head ??= BigInt(latest)))
      .finally(() => (this.starting = undefined));
    return this.starting;
  }

  /**
   * Events after `after`, oldest first: from the recent ones when they reach back that far,
   * else from the database (a listener resuming from further back). Empty when `after` is at
   * or beyond what this instance has read: wait for news, then ask again.
   */
  async next(after: bigint): Promise<StreamEvent[]> {
    const head = await this.position();
    if (after >= head) return [];
    const first = this.recent[0];
    if (first && BigInt(first.streamSeq) <= after + 1n) {
      const from = Number(after + 1n - BigInt(first.streamSeq));
      return this.recent.slice(from, from + STREAM_PAGE);
    }
    return this.reader.after(after.toString(), STREAM_PAGE);
  }

  /**
   * Resolves once the hub has read past `after` (at once if it already has), after `ms`, or
   * when woken up. Checked as the wait begins, so news read just before is never slept through.
   */
  waitForNews(after: bigint, ms: number): NewsWait {
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    const done = () => {
      clearTimeout(timer);
      this.waiting.delete(done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    this.waiting.add(done);
    if (this.closing || (this.head !== null && this.head > after)) done();
    return { promise, wakeUp: done };
  }

  /**
   * A fixed schedule that checks the configured interval: @Interval takes a constant, and the
   * tick costs nothing while no one listens.
   */
  @Interval('event-stream-poll', STREAM_TICK_MS)
  tick(now = Date.now()): Promise<number> | null {
    if (this.closing || this.polling || this.listeners.size === 0) return null;
    if (now - this.lastPollAt < this.config.streamPollMs) return null;
    this.lastPollAt = now;
    this.polling = this.poll()
      .catch((error: unknown) => {
        this.logger.warn({ err: loggableError(error) }, 'Reading the event stream failed');
        return 0;
      })
      .finally(() => (this.polling = undefined));
    return this.polling;
  }

  /** Ends every stream before the server closes: a listener reconnects to another instance. */
  async onModuleDestroy(): Promise<void> {
    this.closing = true;
    for (const listener of [...this.listeners]) listener.close('the server is shutting down');
    for (const wake of [...this.waiting]) wake();
    await this.polling;
  }

  /** Reads what was numbered since the last read; returns how many events it found. */
  private async poll(): Promise<number> {
    const from = await this.position();
    const read: StreamEvent[] = [];
    let head = from;
    for (let i = 0; i < MAX_PAGES; i++) {
      const page = await this.reader.after(head.toString(), STREAM_PAGE);
      if (page.length > 0) head = BigInt(page[page.length - 1].streamSeq);
      read.push(...page);
      if (page.length < STREAM_PAGE) break;
    }
    // Everyone left and someone joined meanwhile: the hub started afresh, this read is stale.
    if (this.head !== from || read.length === 0) return 0;
    this.recent = [...this.recent, ...read].slice(-RECENT_MAX);
    this.head = head;
    for (const wake of [...this.waiting]) wake();
    return read.length;
  }
}
