import { withTimeout } from '../common/with-timeout';
import { Inject, Injectable } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { HealthIndicatorService } from '@nestjs/terminus';
import { OutboxRelay } from '../audit/outbox/outbox-relay';
import { auditConfig } from '../config/audit.config';

/**
 * The audit sinks' backlog. A lagging sink degrades readiness but never fails it: events are
 * safe in the database and requests go on; operators see the backlog here and in /metrics.
 */
@Injectable()
export class AuditSinksHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly relay: OutboxRelay,
    @Inject(auditConfig.KEY) private readonly config: ConfigType<typeof auditConfig>,
  ) {}

  async check(key: string) {
    const indicator = this.indicators.check(key);
    let backlog: Record<string, number>;
    try {
      backlog = await withTimeout(this.relay.backlog(), 2000);
    } catch {
      // The database check reports an unreachable database; here only the backlog is unknown.
      return indicator.degraded({ message: 'audit sink backlog unknown' });
    }
    const lagging = Object.entries(backlog).filter(([, count]) => count > this.config.backlogWarn);
    return lagging.length > 0
      ? indicator.degraded({
          backlog,
          message: `audit sinks lagging: ${lagging.map(([sink]) => sink).join(', ')}`,
        })
      : indicator.up({ backlog });
  }
}
