import type { ThrottlerStorage } from '@nestjs/throttler';

/** What ThrottlerStorage.increment answers (not exported by @nestjs/throttler's index). */
export interface ThrottlerRecord {
  totalHits: number;
  timeToExpire: number;
  isBlocked: boolean;
  timeToBlockExpire: number;
}

/** The counts of one window length: the window now running and the one before it. */
class Windows {
  start: number;
  current = new Map<string, number>();
  previous = new Map<string, number>();

  constructor(
    readonly ttl: number,
    now: number,
  ) {
    this.start = now - (now % ttl);
  }

  /** Moves on to the window holding `now`; true when it did. Older counts are dropped whole. */
  roll(now: number): boolean {
    const start = now - (now % this.ttl);
    if (start === this.start) return false;
    this.previous = start - this.start === this.ttl ? this.current : new Map<string, number>();
    this.current = new Map();
    this.start = start;
    return true;
  }

  /**
   * Counts a hit and estimates the hits of the last `ttl` ms: this window's plus the previous
   * window's weighted by how much of it the sliding window still covers.
   */
  hit(key: string, now: number): number {
    const current = (this.current.get(key) ?? 0) + 1;
    this.current.set(key, current);
    const previous = this.previous.get(key) ?? 0;
    if (previous === 0) return current;
    return current + Math.ceil(previous * (1 - (now - this.start) / this.ttl));
  }

  forget(key: string): void {
    this.current.delete(key);
    this.previous.delete(key);
  }
}

/**
 * @nestjs/throttler storage at O(1) per request: a sliding-window counter (two fixed windows per
 * limit, the older one weighted) instead of the built-in store's list of hit times, which it
 * filters on every request, so its cost grows with the limit and the traffic of one client.
 *
 * Memory holds one number per client and limit for the running and the previous window; older
 * windows are dropped as a whole when time moves on, so a client that stops costs nothing after
 * two windows, however many clients there were. Counts are per instance (DESIGN.md §7): N
 * instances behind a balancer let a client through up to N times the limit.
 *
 * Same contract as the built-in store: over the limit, a client is refused for `blockDuration`
 * (refused requests are not counted); when the block ends it starts again from zero.
 */
export class WindowThrottlerStorage implements ThrottlerStorage {
  private readonly windows = new Map<number, Windows>();
  private readonly blocked = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    _throttlerName: string,
  ): Promise<ThrottlerRecord> {
    const now = this.now();
    const windows = this.windowsFor(ttl, now);
    const timeToExpire = Math.ceil((windows.start + ttl - now) / 1000);
    const blockedUntil = this.blocked.get(key);
    if (blockedUntil !== undefined) {
      if (blockedUntil > now) {
        return Promise.resolve({
          totalHits: limit + 1,
          timeToExpire,
          isBlocked: true,
          timeToBlockExpire: Math.ceil((blockedUntil - now) / 1000),
        });
      }
      this.blocked.delete(key);
      windows.forget(key);
    }
    const totalHits = windows.hit(key, now);
    if (totalHits <= limit) {
      return Promise.resolve({ totalHits, timeToExpire, isBlocked: false, timeToBlockExpire: 0 });
    }
    if (blockDuration > 0) {
      this.blocked.set(key, now + blockDuration);
      return Promise.resolve({
        totalHits,
        timeToExpire,
        isBlocked: true,
        timeToBlockExpire: Math.ceil(blockDuration / 1000),
      });
    }
    // No block: refuse this one without counting it, as the built-in store does.
    windows.current.set(key, (windows.current.get(key) ?? 1) - 1);
    return Promise.resolve({
      totalHits,
      timeToExpire,
      isBlocked: true,
      timeToBlockExpire: timeToExpire,
    });
  }

  /** Clients and limits with a count or a block in memory (for tests and metrics). */
  get size(): number {
    let size = this.blocked.size;
    for (const windows of this.windows.values()) {
      size += windows.current.size + windows.previous.size;
    }
    return size;
  }

  private windowsFor(ttl: number, now: number): Windows {
    let windows = this.windows.get(ttl);
    if (!windows) {
      windows = new Windows(ttl, now);
      this.windows.set(ttl, windows);
    } else if (windows.roll(now)) {
      // Once a window, not per request: blocks that have ended are forgotten, and so are the
      // counts of those clients, who start again from zero.
      for (const [key, until] of this.blocked) {
        if (until > now) continue;
        this.blocked.delete(key);
        for (const other of this.windows.values()) other.forget(key);
      }
    }
    return windows;
  }
}
