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
