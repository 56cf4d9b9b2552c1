import { Inject, Injectable } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { HealthIndicatorService } from '@nestjs/terminus';
import { withTimeout } from '../common/with-timeout';
import { rotationConfig } from '../config/rotation.config';
import { RotationScheduleQuery } from '../rotation/schedule/rotation-schedule.query';

/**
 * Overdue rotations. Like a lagging audit sink, they degrade readiness but never fail it: an
 * overdue credential is no reason to take an instance out of a load balancer, and every instance
 * would report the same. Operators see it here and in /metrics.
 */
@Injectable()
export class RotationHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly schedule: RotationScheduleQuery,
    @Inject(rotationConfig.KEY) private readonly config: ConfigType<typeof rotationConfig>,
  ) {}

  async check(key: string) {
    const indicator = this.indicators.check(key);
    let counts;
    try {
      counts = await withTimeout(this.schedule.counts(), 2000);
    } catch {
      // The database check reports an unreachable database; here only the schedule is unknown.
      return indicator.degraded({ message: 'rotation schedule unknown' });
    }
    const { overdue, oldestOverdueSeconds } = counts;
    return overdue >= this.config.degradedOverdueCount
      ? indicator.degraded({
          overdue,
          oldestOverdueSeconds,
          message: `${overdue} credential(s) overdue for rotation, the oldest for ${oldestOverdueSeconds} s`,
        })
      : indicator.up({ overdue, oldestOverdueSeconds });
  }
}
