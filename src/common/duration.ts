import { parse, toSeconds } from 'iso8601-duration';

const ISO_DURATION = /^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$/;

/** True for an ISO 8601 duration of whole units (`P90D`, `PT24H`, `PT0S`). */
export function isIsoDuration(value: unknown): value is string {
  return typeof value === 'string' && ISO_DURATION.test(value);
}

/**
 * Seconds in an ISO 8601 duration. Years and months count from `from` (calendar lengths), so
 * `P1M` from 31 January is 28 or 29 days.
 */
export function durationSeconds(value: string, from: Date = new Date()): number {
  if (!isIsoDuration(value)) throw new Error('not an ISO 8601 duration');
  return toSeconds(parse(value), from);
}

const PARTS =
  /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/;

/**
 * `from` plus an ISO 8601 duration, in UTC whatever the process time zone: years and months move
 * the calendar date (31 January + P1M is the last day of February, not 3 March), the rest is
 * exact time (a day is 24 hours; UTC has no daylight saving).
 */
export function addDuration(from: Date, value: string): Date {
  const parts = isIsoDuration(value) ? PARTS.exec(value) : null;
  if (!parts) throw new Error('not an ISO 8601 duration');
  const [years, months, weeks, days, hours, minutes, seconds] = parts
    .slice(1)
    .map((part) => (part === undefined ? 0 : Number(part)));
  let date = from;
  if (years > 0 || months > 0) {
    const monthIndex = from.getUTCMonth() + years * 12 + months;
    const lastDay = new Date(Date.UTC(from.getUTCFullYear(), monthIndex + 1, 0)).getUTCDate();
    date = new Date(from);
    date.setUTCDate(1);
    date.setUTCMonth(monthIndex);
    date.setUTCDate(Math.min(from.getUTCDate(), lastDay));
  }
  const exact = (((weeks * 7 + days) * 24 + hours) * 60 + minutes) * 60 + seconds;
  return new Date(date.getTime() + exact * 1000);
}

/** Seconds from `from` to `from` plus the duration (calendar-aware, as addDuration). */
export function durationSecondsFrom(from: Date, value: string): number {
  return (addDuration(from, value).getTime() - from.getTime()) / 1000;
}
