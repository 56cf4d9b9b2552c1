import { CronTime } from 'cron';

/** Five fields (minute hour day-of-month month day-of-week), always read in UTC. */
const FIELDS = 5;

/**
 * Fires looked at to find the shortest gap of a schedule: two weeks of a daily one, enough for
 * the usual patterns (weekdays, lists of days). The library steps through time a second or an
 * hour at a time, a few milliseconds a fire, so a longer sample would slow every PUT.
 */
const GAP_SAMPLE = 14;

function parse(expression: string): CronTime {
  return new CronTime(expression, 'UTC');
}

/** What is wrong with a cron expression, or undefined when it is valid and ever fires. */
export function cronProblem(expression: unknown, from: Date = new Date()): string | undefined {
  if (typeof expression !== 'string') return 'must be a string';
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== FIELDS || expression.includes('@')) {
    return 'must have five fields (minute hour day-of-month month day-of-week), e.g. "0 3 * * sun"';
  }
  let time: CronTime;
  try {
    time = parse(expression);
  } catch (error) {
    return `is not a cron expression: ${(error as Error).message}`;
  }
  try {
    time.getNextDateFrom(from, 'UTC');
  } catch {
    return 'never fires (no such date in the next eight years)';
  }
  return undefined;
}

/** The first time the schedule fires strictly after `after` (whole minutes, UTC). */
export function nextCronFire(expression: string, after: Date): Date {
  return parse(expression).getNextDateFrom(after, 'UTC').toJSDate();
}

/**
 * Up to `count` fires after `after`, fewer when the schedule fires too rarely for the cron
 * library, which looks no further than eight years from the real clock.
 */
export function cronFires(expression: string, after: Date, count: number): Date[] {
  const time = parse(expression);
  const fires: Date[] = [];
  let last = after;
  while (fires.length < count) {
    try {
      last = time.getNextDateFrom(last, 'UTC').toJSDate();
    } catch {
      break;
    }
    fires.push(last);
  }
  return fires;
}

/**
 * The shortest time between two fires among the next ones after `from`, in seconds; Infinity
 * when it fires once or never in that time.
 */
export function shortestCronGapSeconds(expression: string, from: Date): number {
  const fires = cronFires(expression, from, GAP_SAMPLE);
  let shortest = Infinity;
  for (let i = 1; i < fires.length; i++) {
    shortest = Math.min(shortest, (fires[i].getTime() - fires[i - 1].getTime()) / 1000);
  }
  return shortest;
}
