/** An audit event as the detectors see it: where it sits in the log and when it happened. */
export interface Timed {
  seq: string;
  at: Date;
}

export interface Burst<T extends Timed> {
  /** The events of the window, oldest first. */
  events: T[];
  /** How many there were, or how many distinct ones when a `distinct` key is given. */
  count: number;
}

export interface BurstRule<T> {
  threshold: number;
  windowMs: number;
  /** Count distinct values instead of events (e.g. distinct credentials revealed). */
  distinct?: (event: T) => string;
  /** Only windows that end at an event after this seq count: earlier ones were seen by a past pass. */
  afterSeq?: string;
}

/**
 * The latest window of `windowMs` ending at a new event in which `threshold` events (or distinct
 * values) happened; null when there is none. Taking the latest one gives the fullest facts for a
 * pass; a burst still going on the next pass is reported again and lands on the same incident.
 * `events` must be of one subject (one account, one principal...) and sorted by time.
 */
export function latestBurst<T extends Timed>(
  events: readonly T[],
  rule: BurstRule<T>,
): Burst<T> | null {
  const after = rule.afterSeq === undefined ? null : BigInt(rule.afterSeq);
  for (let end = events.length - 1; end >= 0; end--) {
    if (after !== null && BigInt(events[end].seq) <= after) break;
    const endAt = events[end].at.getTime();
    let start = end;
    while (start > 0 && endAt - events[start - 1].at.getTime() < rule.windowMs) start--;
    const inWindow = events.slice(start, end + 1);
    const count = rule.distinct ? new Set(inWindow.map(rule.distinct)).size : inWindow.length;
    if (count >= rule.threshold) return { events: inWindow, count };
  }
  return null;
}

/** Distinct non-empty values, sorted, for facts such as "from these IPs". */
export function distinctValues<T>(
  events: readonly T[],
  value: (event: T) => string | null,
): string[] {
  return [...new Set(events.map(value).filter((v): v is string => !!v))].sort();
}
