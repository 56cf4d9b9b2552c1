import type { RotationWindow } from '../entities/rotation-policy.entity';
import { cronFires, cronProblem, nextCronFire, shortestCronGapSeconds } from './cron-schedule';
import {
  gracePeriodFits,
  nextRotationAt,
  RotationTiming,
  shortestRotationGapSeconds,
} from './next-rotation';
import { nextWindowOpening, windowDurationProblem } from './rotation-window';

/** A Monday. */
const NOW = new Date('2026-11-30T12:00:00.000Z');

function at(iso: string): Date {
  return new Date(iso);
}

function timing(overrides: Partial<RotationTiming>): RotationTiming {
  return { rotateEvery: null, schedule: null, offset: null, window: null, ...overrides };
}

// The cron library bounds its search by the real clock: pin it, and nothing else runs on timers.
beforeEach(() => {
  jest.useFakeTimers({ now: NOW });
});

afterEach(() => {
  jest.useRealTimers();
});

describe('cron schedules', () => {
  it.each([
    ['every day at 03:00', '0 3 * * *'],
    ['every fifteen minutes', '*/15 * * * *'],
    ['Sundays by name', '0 3 * * sun'],
    ['weekdays by range of names', '0 12 * * MON-FRI'],
    ['Sunday as 7', '0 0 * * 7'],
    ['lists and steps', '0,30 8-18/2 1,15 * *'],
    ['leap days, once in four years', '0 0 29 2 *'],
  ])('should accept %s', (_case, expression) => {
    expect(cronProblem(expression)).toBeUndefined();
  });

  it.each([
    ['four fields', '* * * *', /five fields/],
    ['six fields (seconds)', '0 0 3 * * *', /five fields/],
    ['a preset', '@daily', /five fields/],
    ['a minute out of range', '61 * * * *', /out of range/],
    ['a day of week out of range', '0 0 * * 8', /out of range/],
    ['a step of zero', '*/0 * * * *', /step of zero/],
    ['a backwards range', '5-1 * * * *', /invalid range/],
    ['an unknown name', '0 0 * * someday', /Unknown alias/],
    ['Quartz syntax', '0 0 ? * *', /cannot be parsed/],
    ['a date that never comes', '0 0 31 2 *', /never fires/],
    ['something other than a string', 42, /must be a string/],
  ])('should refuse %s with a reason', (_case, expression, reason) => {
    expect(cronProblem(expression)).toMatch(reason);
  });

  it('should fire strictly after the given time, in UTC', () => {
    expect(nextCronFire('0 10 * * *', at('2026-11-30T09:59:59.999Z'))).toEqual(
      at('2026-11-30T10:00:00Z'),
    );
    expect(nextCronFire('0 10 * * *', at('2026-11-30T10:00:00.000Z'))).toEqual(
      at('2026-12-01T10:00:00Z'),
    );
    expect(nextCronFire('0 10 * * *', at('2026-11-30T10:00:00.400Z'))).toEqual(
      at('2026-12-01T10:00:00Z'),
    );
  });

  it('should ignore the process time zone', () => {
    // 2026-03-29 is the day clocks go forward in Europe: in UTC nothing moves.
    expect(nextCronFire('30 2 * * *', at('2026-03-28T12:00:00Z'))).toEqual(
      at('2026-03-29T02:30:00Z'),
    );
  });

  it('should list the next fires, and stop where the library cannot look', () => {
    expect(cronFires('0 0 1 * *', NOW, 3)).toEqual([
      at('2026-12-01T00:00:00Z'),
      at('2027-01-01T00:00:00Z'),
      at('2027-02-01T00:00:00Z'),
    ]);
    expect(cronFires('0 0 29 2 *', NOW, 5)).toEqual([
      at('2028-02-29T00:00:00Z'),
      at('2032-02-29T00:00:00Z'),
    ]);
  });

  it.each([
    ['every day', '0 3 * * *', 86_400],
    ['every fifteen minutes', '*/15 * * * *', 900],
    ['weekdays at noon', '0 12 * * 1-5', 86_400],
    ['twice a month, a day apart', '0 0 1,2 * *', 86_400],
    ['Sundays', '0 3 * * 0', 7 * 86_400],
  ])('should find the shortest gap of %s', (_case, expression, seconds) => {
    expect(shortestCronGapSeconds(expression, NOW)).toBe(seconds);
  });

  it('should count a schedule that fires once in the horizon as never too short', () => {
    jest.setSystemTime(at('2031-06-01T00:00:00Z'));
    expect(shortestCronGapSeconds('0 0 29 2 *', at('2031-06-01T00:00:00Z'))).toBe(
      (Date.UTC(2036, 1, 29) - Date.UTC(2032, 1, 29)) / 1000,
    );
  });
});

describe('rotation windows', () => {
  const weekend: RotationWindow = { days: ['sat', 'sun'], start: '02:00', duration: 'PT4H' };

  it.each([
    ['PT1H', undefined],
    ['PT90M', undefined],
    ['P7D', undefined],
    ['P1W', undefined],
    ['PT59M', /at least one hour/],
    ['PT3599S', /at least one hour/],
    ['P8D', /at most a week/],
    ['P1M', /weeks, days, hours or minutes/],
    ['P1Y', /weeks, days, hours or minutes/],
    ['4h', /weeks, days, hours or minutes/],
  ])('should judge a window of %s', (duration, problem) => {
    if (problem) expect(windowDurationProblem(duration)).toMatch(problem);
    else expect(windowDurationProblem(duration)).toBeUndefined();
  });

  it('should keep a time inside the window', () => {
    const saturday = at('2026-12-05T03:15:00Z');
    expect(nextWindowOpening(weekend, saturday)).toEqual(saturday);
    expect(nextWindowOpening(weekend, at('2026-12-05T02:00:00Z'))).toEqual(
      at('2026-12-05T02:00:00Z'),
    );
  });

  it('should move a time before the opening to the same day', () => {
    expect(nextWindowOpening(weekend, at('2026-12-05T01:59:59Z'))).toEqual(
      at('2026-12-05T02:00:00Z'),
    );
  });

  it('should move a time at or after the closing to the next day the window opens', () => {
    expect(nextWindowOpening(weekend, at('2026-12-05T06:00:00Z'))).toEqual(
      at('2026-12-06T02:00:00Z'),
    );
    expect(nextWindowOpening(weekend, at('2026-12-06T06:00:00Z'))).toEqual(
      at('2026-12-12T02:00:00Z'),
    );
  });

  it('should move a weekday to the weekend', () => {
    expect(nextWindowOpening(weekend, NOW)).toEqual(at('2026-12-05T02:00:00Z'));
  });

  it('should open every day when no days are given', () => {
    const nightly: RotationWindow = { start: '23:30', duration: 'PT1H' };
    expect(nextWindowOpening(nightly, NOW)).toEqual(at('2026-11-30T23:30:00Z'));
    expect(nextWindowOpening({ ...nightly, days: [] }, NOW)).toEqual(at('2026-11-30T23:30:00Z'));
  });

  it('should hold a window open past midnight, into a day it does not open on', () => {
    const saturdayNight: RotationWindow = { days: ['sat'], start: '23:00', duration: 'PT4H' };
    const sundayEarly = at('2026-12-06T02:59:00Z');
    expect(nextWindowOpening(saturdayNight, sundayEarly)).toEqual(sundayEarly);
    expect(nextWindowOpening(saturdayNight, at('2026-12-06T03:00:00Z'))).toEqual(
      at('2026-12-12T23:00:00Z'),
    );
  });

  it('should treat a week-long window as always open', () => {
    const always: RotationWindow = { days: ['mon'], start: '00:00', duration: 'P7D' };
    expect(nextWindowOpening(always, at('2026-12-06T23:59:00Z'))).toEqual(
      at('2026-12-06T23:59:00Z'),
    );
  });
});

describe('nextRotationAt', () => {
  it('should add the interval to the given time', () => {
    expect(nextRotationAt(timing({ rotateEvery: 'P30D' }), NOW)).toEqual(
      at('2026-12-30T12:00:00Z'),
    );
    expect(nextRotationAt(timing({ rotateEvery: 'PT1M' }), NOW)).toEqual(
      at('2026-11-30T12:01:00Z'),
    );
  });

  it('should count months in the calendar', () => {
    expect(nextRotationAt(timing({ rotateEvery: 'P1M' }), at('2027-01-31T10:00:00Z'))).toEqual(
      at('2027-02-28T10:00:00Z'),
    );
  });

  it('should take the next cron fire strictly after the given time', () => {
    expect(nextRotationAt(timing({ schedule: '0 12 * * *' }), NOW)).toEqual(
      at('2026-12-01T12:00:00Z'),
    );
    expect(nextRotationAt(timing({ schedule: '0 3 1 * *' }), NOW)).toEqual(
      at('2026-12-01T03:00:00Z'),
    );
  });

  it('should shift by the offset', () => {
    expect(nextRotationAt(timing({ schedule: '0 3 * * *', offset: 'PT17M' }), NOW)).toEqual(
      at('2026-12-01T03:17:00Z'),
    );
    expect(nextRotationAt(timing({ rotateEvery: 'P1D', offset: 'PT2H' }), NOW)).toEqual(
      at('2026-12-01T14:00:00Z'),
    );
  });

  it('should move a time outside the window to its next opening, after the offset', () => {
    const window: RotationWindow = { days: ['sat'], start: '01:00', duration: 'PT2H' };
    // Monday 12:00 + P1D + PT13H = Wednesday 01:00, outside: Saturday 01:00.
    expect(nextRotationAt(timing({ rotateEvery: 'P1D', offset: 'PT13H', window }), NOW)).toEqual(
      at('2026-12-05T01:00:00Z'),
    );
    // Friday 12:00 + P1D = Saturday 12:00, after the window: the next Saturday.
    expect(
      nextRotationAt(timing({ rotateEvery: 'P1D', window }), at('2026-12-04T12:00:00Z')),
    ).toEqual(at('2026-12-12T01:00:00Z'));
  });

  it('should leave a time inside the window where it is', () => {
    const window: RotationWindow = { start: '00:00', duration: 'PT6H' };
    expect(nextRotationAt(timing({ schedule: '0 4 * * *', window }), NOW)).toEqual(
      at('2026-12-01T04:00:00Z'),
    );
  });

  it('should always lie after the given time', () => {
    const window: RotationWindow = { days: ['tue', 'thu'], start: '22:00', duration: 'PT3H' };
    let from = NOW;
    for (let i = 0; i < 50; i++) {
      const next = nextRotationAt(timing({ rotateEvery: 'PT7H', offset: 'PT5M', window }), from);
      expect(next.getTime()).toBeGreaterThan(from.getTime());
      const day = next.getUTCDay();
      const minutes = next.getUTCHours() * 60 + next.getUTCMinutes();
      const inside =
        ([2, 4].includes(day) && minutes >= 22 * 60) || ([3, 5].includes(day) && minutes < 60);
      expect([next.toISOString(), inside]).toEqual([next.toISOString(), true]);
      from = next;
    }
  });

  it('should refuse a policy with neither interval nor schedule', () => {
    expect(() => nextRotationAt(timing({}), NOW)).toThrow(/interval or a schedule/);
  });
});

describe('gracePeriodFits', () => {
  it.each([
    ['a grace shorter than the interval', { rotateEvery: 'P30D' }, 'PT48H', true],
    ['a grace as long as the interval', { rotateEvery: 'P1D' }, 'PT24H', true],
    ['a grace longer than the interval', { rotateEvery: 'PT12H' }, 'PT24H', false],
    ['no grace at all', { rotateEvery: 'PT1M' }, 'PT0S', true],
    ['a grace within a calendar month', { rotateEvery: 'P1M' }, 'P28D', true],
    ['a grace longer than a daily schedule', { schedule: '0 3 * * *' }, 'PT25H', false],
    ['a grace within a weekly schedule', { schedule: '0 3 * * sun' }, 'P7D', true],
    [
      'a grace longer than the short gap of an uneven schedule',
      { schedule: '0 0 1,2 * *' },
      'PT48H',
      false,
    ],
  ])('should judge %s', (_case, policy, grace, fits) => {
    expect(gracePeriodFits(timing(policy), grace, NOW)).toBe(fits);
  });

  it('should give the shortest gap of a policy in seconds', () => {
    expect(shortestRotationGapSeconds(timing({ rotateEvery: 'P90D' }), NOW)).toBe(90 * 86_400);
    expect(shortestRotationGapSeconds(timing({ schedule: '*/5 * * * *' }), NOW)).toBe(300);
  });
});
