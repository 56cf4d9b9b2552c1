import { HealthIndicatorService } from '@nestjs/terminus';
import type {
  RotationScheduleQuery,
  ScheduleCounts,
} from '../rotation/schedule/rotation-schedule.query';
import { RotationHealthIndicator } from './rotation.health';

const counts = (overdue: number, oldestOverdueSeconds = 0): ScheduleCounts => ({
  due: overdue + 1,
  overdue,
  oldestOverdueSeconds,
  inFlight: 1,
});

describe('RotationHealthIndicator', () => {
  const read = jest.fn<Promise<ScheduleCounts>, []>();
  const sut = (degradedOverdueCount: number) =>
    new RotationHealthIndicator(
      new HealthIndicatorService(),
      { counts: read } as unknown as RotationScheduleQuery,
      { degradedOverdueCount } as never,
    );

  beforeEach(() => read.mockReset());

  it('should be up below the configured number of overdue credentials', async () => {
    read.mockResolvedValueOnce(counts(2, 600));

    await expect(sut(3).check('rotation')).resolves.toEqual({
      rotation: { status: 'up', overdue: 2, oldestOverdueSeconds: 600 },
    });
  });

  it('should be degraded, with the count and the oldest age, from the configured number on', async () => {
    read.mockResolvedValueOnce(counts(3, 5400));

    await expect(sut(3).check('rotation')).resolves.toEqual({
      rotation: {
        status: 'degraded',
        overdue: 3,
        oldestOverdueSeconds: 5400,
        message: '3 credential(s) overdue for rotation, the oldest for 5400 s',
      },
    });
  });

  it('should be degraded, never down, when the schedule cannot be read', async () => {
    read.mockRejectedValueOnce(new Error('connect ECONNREFUSED 10.0.0.5:3306'));

    await expect(sut(1).check('rotation')).resolves.toEqual({
      rotation: { status: 'degraded', message: 'rotation schedule unknown' },
    });
  });
});
