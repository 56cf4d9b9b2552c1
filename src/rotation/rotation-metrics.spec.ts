import { Logger } from '@nestjs/common';
import { HttpMetrics } from '../metrics/http-metrics';
import { RotationMetrics, SCHEDULE_SCRAPE_TIMEOUT_MS } from './rotation-metrics';
import type { RotationScheduleQuery, ScheduleCounts } from './schedule/rotation-schedule.query';

const COUNTS: ScheduleCounts = { due: 3, overdue: 2, oldestOverdueSeconds: 5400, inFlight: 1 };

/** The value of one sample in Prometheus text, or undefined when the metric has none. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('RotationMetrics', () => {
  const counts = jest.fn<Promise<ScheduleCounts>, []>();
  let registry: HttpMetrics;
  let sut: RotationMetrics;

  beforeAll(() => {
    Logger.overrideLogger(false);
  });
  afterAll(() => {
    Logger.overrideLogger(['log', 'error', 'warn', 'debug', 'verbose']);
  });

  beforeEach(() => {
    jest.useFakeTimers({ now: new Date('2026-11-28T12:00:00Z') });
    counts.mockReset();
    registry = new HttpMetrics();
    sut = new RotationMetrics(registry, { counts } as unknown as RotationScheduleQuery);
  });

  afterEach(() => {
    jest.useRealTimers();
  });

  it('should export the schedule counts read at scrape time, with one statement per scrape', async () => {
    counts.mockResolvedValue(COUNTS);

    const text = await registry.render();

    expect(sample(text, 'custos_rotations_due')).toBe(3);
    expect(sample(text, 'custos_rotations_overdue')).toBe(2);
    expect(sample(text, 'custos_rotation_oldest_overdue_seconds')).toBe(5400);
    expect(sample(text, 'custos_rotation_runs_in_flight')).toBe(1);
    expect(counts).toHaveBeenCalledTimes(1);
  });

  it('should export the last counts when the database does not answer in time', async () => {
    counts.mockResolvedValueOnce(COUNTS);
    await registry.render();
    jest.setSystemTime(Date.now() + 60_000);
    counts.mockReturnValueOnce(new Promise(() => undefined));

    const scrape = registry.render();
    await jest.advanceTimersByTimeAsync(SCHEDULE_SCRAPE_TIMEOUT_MS);
    const text = await scrape;

    expect(sample(text, 'custos_rotations_overdue')).toBe(2);
    expect(counts).toHaveBeenCalledTimes(2);
  });

  it('should start no second statement while a slow one is still running', async () => {
    counts.mockReturnValueOnce(new Promise(() => undefined));

    const first = registry.render();
    await jest.advanceTimersByTimeAsync(SCHEDULE_SCRAPE_TIMEOUT_MS);
    await first;
    const second = registry.render();
    await jest.advanceTimersByTimeAsync(SCHEDULE_SCRAPE_TIMEOUT_MS);
    await second;

    expect(counts).toHaveBeenCalledTimes(1);
  });

  it('should export NaN, rather than a false 0, before the database ever answered', async () => {
    counts.mockRejectedValue(new Error('connect ECONNREFUSED'));

    const text = await registry.render();

    expect(sample(text, 'custos_rotations_overdue')).toBeNaN();
    expect(sample(text, 'custos_rotations_due')).toBeNaN();
  });

  it('should count started and finished runs by trigger and outcome, every series from 0', async () => {
    counts.mockResolvedValue(COUNTS);
    sut.runStarted('schedule');
    sut.runStarted('schedule');
    sut.runFinished('schedule', 'succeeded');
    sut.runFinished('emergency', 'failed');

    const text = await registry.render();

    expect(sample(text, 'custos_rotations_started_total{trigger="schedule"}')).toBe(2);
    expect(sample(text, 'custos_rotations_total{trigger="schedule",outcome="succeeded"}')).toBe(1);
    expect(sample(text, 'custos_rotations_total{trigger="emergency",outcome="failed"}')).toBe(1);
    expect(sample(text, 'custos_rotations_total{trigger="manual",outcome="failed"}')).toBe(0);
  });
});
