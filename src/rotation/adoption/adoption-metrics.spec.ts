import { HttpMetrics } from '../../metrics/http-metrics';
import { AdoptionMetrics } from './adoption-metrics';
import type { AdoptionReport } from './adoption-report';

function report(adopted: number, pending: number): AdoptionReport {
  const consumers = Array.from({ length: adopted + pending }, (_, i) => ({
    principalType: 'service_account' as const,
    principalId: `svc-${i}`,
    name: null,
    lastRevealedVersion: i < adopted ? 2 : 1,
    lastRevealedAt: new Date(),
    adopted: i < adopted,
  }));
  const total = adopted + pending;
  return {
    runId: 'run',
    credentialId: 'cred',
    version: 2,
    finishedAt: new Date(),
    consumersSince: new Date(),
    consumers,
    adopted,
    pending,
    percent: total === 0 ? null : Math.round((adopted / total) * 1000) / 10,
  };
}

describe('AdoptionMetrics', () => {
  let registry: HttpMetrics;
  let sut: AdoptionMetrics;

  beforeEach(() => {
    registry = new HttpMetrics();
    sut = new AdoptionMetrics(registry);
  });

  it('should say nothing is known before the first pass (prom-client writes NaN as Nan)', async () => {
    const text = await registry.render();

    expect(text).toContain('custos_rotation_adoption_credentials{state="pending"} Nan');
    expect(text).toContain('custos_rotation_adoption_lowest_percent Nan');
  });

  it('should count credentials by adoption, sum the consumers behind and keep the lowest percent', async () => {
    sut.update([report(2, 0), report(1, 1), report(1, 3), report(0, 0)]);

    const text = await registry.render();

    expect(text).toContain('custos_rotation_adoption_credentials{state="adopted"} 1');
    expect(text).toContain('custos_rotation_adoption_credentials{state="pending"} 2');
    expect(text).toContain('custos_rotation_adoption_credentials{state="no_consumers"} 1');
    expect(text).toContain('custos_rotation_adoption_pending_consumers 4');
    expect(text).toContain('custos_rotation_adoption_lowest_percent 25');
    // One series per state, never one per credential.
    expect(text.match(/^custos_rotation_adoption_credentials\{/gm)).toHaveLength(3);
  });

  it('should report 100 % and nothing behind when no rotation is in its grace', async () => {
    sut.update([]);

    const text = await registry.render();

    expect(text).toContain('custos_rotation_adoption_pending_consumers 0');
    expect(text).toContain('custos_rotation_adoption_lowest_percent 100');
  });
});
