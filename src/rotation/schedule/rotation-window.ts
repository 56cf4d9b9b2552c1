import { addDuration, isIsoDuration } from '../../common/duration';
import type { RotationWindow } from '../entities/rotation-policy.entity';

/** In the order of `Date.getUTCDay()`. */
export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export const WINDOW_START = /^([01]\d|2[0-3]):([0-5]\d)$/;
const MIN_WINDOW_SECONDS = 3600;
const MAX_WINDOW_SECONDS = 7 * 86_400;
/** Weeks, days, hours, minutes, seconds: a window's length must not depend on the month. */
const EXACT_DURATION = /^P(\d+W)?(\d+D)?(T(\d+H)?(\d+M)?(\d+S)?)?$/;
const DAY_MS = 86_400_000;

/** What is wrong with a window's duration, or undefined when it is valid. */
export function windowDurationProblem(duration: unknown): string | undefined {
  if (!isIsoDuration(duration) || !EXACT_DURATION.test(duration)) {
    return 'must be an ISO 8601 duration in weeks, days, hours or minutes, e.g. PT4H';
  }
  const seconds = windowSeconds(duration);
  if (seconds < MIN_WINDOW_SECONDS) return 'must be at least one hour (PT1H)';
  if (seconds > MAX_WINDOW_SECONDS) return 'must be at most a week (P7D)';
  return undefined;
}

/**
 * `at` when it falls inside the window, else the next time the window opens. A window opens at
 * `start` (UTC) on each of its days and stays open for `duration`, past midnight if need be: a
 * Saturday 23:00 window of PT4H still holds Sunday 02:00.
 */
export function nextWindowOpening(window: RotationWindow, at: Date): Date {
  const [, hours, minutes] = WINDOW_START.exec(window.start) ?? [];
  if (hours === undefined) throw new Error(`bad window start ${window.start}`);
  const length = windowSeconds(window.duration) * 1000;
  const days = new Set(window.days && window.days.length > 0 ? window.days : WEEKDAYS);
  const midnight = Math.floor(at.getTime() / DAY_MS) * DAY_MS;
  const startMs = (Number(hours) * 60 + Number(minutes)) * 60_000;
  // Openings in time order, from the oldest that could still be open up to a week ahead.
  for (let day = -Math.ceil(length / DAY_MS); day <= 7; day++) {
    const opening = midnight + day * DAY_MS + startMs;
    if (!days.has(WEEKDAYS[new Date(opening).getUTCDay()])) continue;
    if (opening > at.getTime()) return new Date(opening);
    if (at.getTime() < opening + length) return at;
  }
  throw new Error('a window opens at least once a week');
}

function windowSeconds(duration: string): number {
  return addDuration(new Date(0), duration).getTime() / 1000;
}
