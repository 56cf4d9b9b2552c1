import { Injectable } from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { HttpMetrics } from '../metrics/http-metrics';

/** Master-key rotation progress, for dashboards and for an alert on a stalled re-wrap. */
@Injectable()
export class KeyMetrics {
  readonly remaining: Gauge;
  readonly rewrapped: Counter<'kind'>;

  constructor(metrics: HttpMetrics) {
    const registers = [metrics.registry];
    this.remaining = new Gauge({
      name: 'custos_master_key_rewrap_remaining',
      help: 'Items still under a master key other than the active one, as last seen here',
      registers,
    });
    this.rewrapped = new Counter({
      name: 'custos_master_key_rewrapped_total',
      help: 'Items moved to the active master key by this instance, by kind',
      labelNames: ['kind'],
      registers,
    });
  }
}
