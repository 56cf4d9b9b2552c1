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
    const backlog = await this.relay.backlog();
    const indicator = this.indicators.check(key);
    const lagging = Object.entries(backlog).filter(([, count]) => count > this.config.backlogWarn);
    return lagging.length > 0
      ? indicator.degraded({
          backlog,
          message: `audit sinks lagging: ${lagging.map(([sink]) => sink).join(', ')}`,
        })
      : indicator.up({ backlog });
  }
}
