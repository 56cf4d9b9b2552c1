import { Injectable } from '@nestjs/common';
import { Counter } from 'prom-client';
import { HttpMetrics } from '../metrics/http-metrics';

/** How often plaintext leaves Custos (a sudden rise is worth an alert), and the fingerprint backfill. */
@Injectable()
export class CredentialMetrics {
  readonly reveals: Counter<'via' | 'type'>;
  /** Versions the leak-scan fingerprint backfill handled after an upgrade, by outcome. */
  readonly fingerprintBackfill: Counter<'outcome'>;

  constructor(metrics: HttpMetrics) {
    this.reveals = new Counter({
      name: 'custos_secret_reveals_total',
      help: 'Secrets revealed (committed with their audit event), by route and credential type',
      labelNames: ['via', 'type'],
      registers: [metrics.registry],
    });
    this.fingerprintBackfill = new Counter({
      name: 'custos_leak_scan_fingerprint_backfill_total',
      help: 'Versions whose leak-scan fingerprints the upgrade backfill recomputed (filled), found wiped (gone) or could not open (failed)',
      labelNames: ['outcome'],
      registers: [metrics.registry],
    });
  }
}
