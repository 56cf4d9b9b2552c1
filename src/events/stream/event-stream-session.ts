import { Logger } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import type { PrincipalAccess } from '../../auth/grants/access-policy';
import type { Role } from '../../common/auth/access-vocabulary';
import { loggableError } from '../../common/errors/loggable-error';
import { matchesType, TypeFilter } from '../event-type-filter';
import type { StreamEvent } from '../outbox-reader';
import type { EventStreamHub, NewsWait, StreamListener } from './event-stream-hub';
import { mayHear } from './event-visibility';
import { closingFrame, eventFrame, HEARTBEAT_FRAME, readyFrame } from './sse-frames';

export interface SessionOptions {
  types: TypeFilter | null;
  heartbeatMs: number;
  /** The listener's role, null for a service account; a changed role ends its token. */
  role: Role | null;
  /** The listener's access as it is now (grants read again), for each batch of events. */
  accessOf(): Promise<PrincipalAccess>;
  /** Whether the key or token the listener connected with still authenticates it. */
  stillAuthenticated(): Promise<boolean>;
}

/**
 * One listener's stream: the events after its position that it may read, as Server-Sent Events,
 * a heartbeat when quiet, and its credentials checked again at each heartbeat. Grants are read
 * again for every batch of events, so a revoked grant takes effect with the next event. Ends on
 * any error; the client reconnects with Last-Event-ID and misses nothing.
 */
export class EventStreamSession implements StreamListener {
  private readonly logger = new Logger(EventStreamSession.name);
  private cursor = 0n;
  private closed = false;
  private started = false;
  private interrupt?: NewsWait;

  constructor(
    private readonly response: ServerResponse,
    private readonly hub: EventStreamHub,
    private readonly options: SessionOptions,
  ) {
    // The client went away: stop, and let the hub forget it.
    response.once('close', () => this.stop());
  }

  /**
   * Streams the events numbered after `after` until the client disconnects or the stream is
   * closed; never throws.
   */
  async run(after: bigint): Promise<void> {
    this.cursor = after;
    this.started = true;
    try {
      await this.write(readyFrame(this.cursor.toString()));
      let beatAt = Date.now() + this.options.heartbeatMs;
      while (!this.closed) {
        const events = await this.hub.next(this.cursor);
        if (events.length > 0) await this.deliver(events);
        else await this.waitForNews(beatAt - Date.now());
        if (this.closed || Date.now() < beatAt) continue;
        if (!(await this.options.stillAuthenticated())) {
          this.close('the key or token is no longer valid');
          return;
        }
        await this.write(HEARTBEAT_FRAME);
        beatAt = Date.now() + this.options.heartbeatMs;
      }
    } catch (error) {
      this.logger.warn({ err: loggableError(error) }, 'An event stream failed; closing it');
      this.close('an error occurred; reconnect with Last-Event-ID');
    }
  }

  /** Closed before it started (the server shutting down) or since; nothing more is written. */
  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Ends the stream from the server's side, with the reason as a last comment. Before the
   * stream started the response is not the stream's yet: it is left to the caller to answer.
   */
  close(reason: string): void {
    if (this.closed) return;
    this.stop();
    if (this.started && !this.response.writableEnded && !this.response.destroyed) {
      this.response.end(closingFrame(reason));
    }
  }

  private stop(): void {
    this.closed = true;
    this.interrupt?.wakeUp();
    this.hub.leave(this);
  }

  private async deliver(events: StreamEvent[]): Promise<void> {
    const listener = { role: this.options.role, access: await this.options.accessOf() };
    for (const event of events) {
      if (this.closed) return;
      this.cursor = BigInt(event.streamSeq);
      if (matchesType(this.options.types, event.type) && mayHear(listener, event)) {
        await this.write(eventFrame(event));
      }
    }
  }

  private async waitForNews(ms: number): Promise<void> {
    if (ms <= 0) return;
    const wait = this.hub.waitForNews(this.cursor, ms);
    this.interrupt = wait;
    await wait.promise;
    this.interrupt = undefined;
  }

  /** Writes a frame; a slow client holds this listener (and only it) until it has room again. */
  private write(frame: string): Promise<void> {
    if (this.closed || this.response.writableEnded) return Promise.resolve();
    if (this.response.write(frame)) return Promise.resolve();
    return new Promise((resolve) => {
      const go = () => {
        this.response.off('drain', go);
        this.response.off('close', go);
        resolve();
      };
      this.response.on('drain', go);
      this.response.on('close', go);
    });
  }
}
