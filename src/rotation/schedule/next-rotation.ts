import { addDuration, durationSecondsFrom } from '../../common/duration';
import type { EffectivePolicy } from '../policy/effective-policy';
import { nextCronFire, shortestCronGapSeconds } from './cron-schedule';
import { nextWindowOpening } from './rotation-window';

/** What decides when a credential rotates: an interval or a cron schedule, then offset and window. */
export type RotationTiming = Pick<
  EffectivePolicy,
  'rotateEvery' | 'schedule' | 'offset' | 'window'
>;

/**
 * When a credential rotates next, given the last time it rotated or its policy changed (`after`):
 * after + interval, or the first cron fire strictly after `after`; then shifted by the offset;
 * then, if that falls outside the window, moved to the window's next opening. Pure: the caller
 * passes the database clock.
 */
export function nextRotationAt(policy: RotationTiming, after: Date): Date {
  let due: Date;
  if (policy.schedule) due = nextCronFire(policy.schedule, after);
  else if (policy.rotateEvery) due = addDuration(after, policy.rotateEvery);
  else throw new Error('a policy needs an interval or a schedule (fill in the type defaults)');
  if (policy.offset) due = addDuration(due, policy.offset);
  if (policy.window) due = nextWindowOpening(policy.window, due);
  return due;
}

/**
 * The shortest time between two rotations, in seconds, counted from `from`: the interval (months
 * are calendar months from `from`), or the shortest gap among the schedule's next fires.
 */
export function shortestRotationGapSeconds(
  policy: Pick<RotationTiming, 'rotateEvery' | 'schedule'>,
  from: Date,
): number {
  if (policy.schedule) return shortestCronGapSeconds(policy.schedule, from);
  if (policy.rotateEvery) return durationSecondsFrom(from, policy.rotateEvery);
  throw new Error('a policy needs an interval or a schedule (fill in the type defaults)');
}

/**
 * Whether the grace of the old value ends before the next rotation could start: a grace longer
 * than the time between rotations would keep two old values valid at once.
 */
export function gracePeriodFits(
  policy: Pick<RotationTiming, 'rotateEvery' | 'schedule'>,
  gracePeriod: string,
  from: Date,
): boolean {
  return durationSecondsFrom(from, gracePeriod) <= shortestRotationGapSeconds(policy, from);
}
