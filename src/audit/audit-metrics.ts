import { Injectable } from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { HttpMetrics } from '../metrics/http-metrics';

/** Audit counters and gauges, in the instance's metrics registry. */
@Injectable()
export class AuditMetrics {
  readonly events: Counter<'outcome'>;
  readonly backlog: Gauge<'sink'>;
  readonly delivered: Counter<'sink'>;
  readonly sinkFailures: Counter<'sink'>;

  constructor(metrics: HttpMetrics) {
    const registers = [metrics.registry];
    this.events = new Counter({
      name: 'custos_audit_events_total',
      help: 'Audit events written, by outcome',
      labelNames: ['outcome'],
      registers,
    });
    this.backlog = new Gauge({
      name: 'custos_audit_outbox_backlog',
      help: 'Audit messages waiting for delivery, by sink',
      labelNames: ['sink'],
      registers,
    });
    this.delivered = new Counter({
      name: 'custos_audit_outbox_delivered_total',
      help: 'Audit messages delivered, by sink',
      labelNames: ['sink'],
      registers,
    });
    this.sinkFailures = new Counter({
      name: 'custos_audit_sink_failures_total',
      help: 'Failed delivery attempts, by sink',
      labelNames: ['sink'],
      registers,
    });
  }
}
