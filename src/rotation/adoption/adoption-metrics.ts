import { Injectable } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { HttpMetrics } from '../../metrics/http-metrics';
import type { AdoptionReport } from './adoption-report';

export const ADOPTION_STATES = ['adopted', 'pending', 'no_consumers'] as const;
export type AdoptionState = (typeof ADOPTION_STATES)[number];

/**
 * Adoption of the latest rotation of each credential whose old version is still in its grace,
 * as counts, set by each adoption pass. No series per credential: one per credential would grow
 * with the vault and churn with every new credential (ids as labels are unbounded). The counts
 * by state, the consumers still on the old value and the lowest percent are what an alert
 * needs; which credential lags is in the `rotation.adoption_lagging` event and the adoption
 * route. NaN until the first pass (Prometheus' "unknown", never a false 0).
 */
@Injectable()
export class AdoptionMetrics {
  private readonly credentials: Gauge<'state'>;
  private readonly pendingConsumers: Gauge;
  private readonly lowestPercent: Gauge;

  constructor(metrics: HttpMetrics) {
    const registers = [metrics.registry];
    this.credentials = new Gauge({
      name: 'custos_rotation_adoption_credentials',
      help: 'Credentials in the grace of their latest rotation, by adoption: adopted (every known consumer has the new value), pending, no_consumers',
      labelNames: ['state'],
      registers,
    });
    this.pendingConsumers = new Gauge({
      name: 'custos_rotation_adoption_pending_consumers',
      help: 'Consumers still on the old value, summed over credentials in the grace of their latest rotation',
      registers,
    });
    this.lowestPercent = new Gauge({
      name: 'custos_rotation_adoption_lowest_percent',
      help: 'The lowest adoption percent among credentials in the grace of their latest rotation with known consumers (100 when there are none)',
      registers,
    });
    for (const state of ADOPTION_STATES) this.credentials.set({ state }, Number.NaN);
    this.pendingConsumers.set(Number.NaN);
    this.lowestPercent.set(Number.NaN);
  }

  /** The reports of every credential in the grace of its latest rotation, from one pass. */
  update(reports: readonly AdoptionReport[]): void {
    const counts: Record<AdoptionState, number> = { adopted: 0, pending: 0, no_consumers: 0 };
    for (const report of reports) counts[stateOf(report)] += 1;
    for (const state of ADOPTION_STATES) this.credentials.set({ state }, counts[state]);
    this.pendingConsumers.set(reports.reduce((sum, report) => sum + report.pending, 0));
    const percents = reports.flatMap((report) => (report.percent === null ? [] : [report.percent]));
    this.lowestPercent.set(percents.length > 0 ? Math.min(...percents) : 100);
  }
}

function stateOf(report: AdoptionReport): AdoptionState {
  if (report.consumers.length === 0) return 'no_consumers';
  return report.pending === 0 ? 'adopted' : 'pending';
}
