import { Injectable } from '@nestjs/common';
import { Counter } from 'prom-client';
import { HttpMetrics } from '../metrics/http-metrics';

/** How often plaintext leaves Custos: a sudden rise is worth an alert. */
@Injectable()
export class CredentialMetrics {
  readonly reveals: Counter<'via' | 'type'>;

  constructor(metrics: HttpMetrics) {
    this.reveals = new Counter({
      name: 'custos_secret_reveals_total',
      help: 'Secrets revealed (committed with their audit event), by route and credential type',
      labelNames: ['via', 'type'],
      registers: [metrics.registry],
    });
  }
}
