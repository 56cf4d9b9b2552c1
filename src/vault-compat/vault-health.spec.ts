import { HealthQueryError, HealthState, healthBody, healthStatusCode } from './vault-health';

const ACTIVE: HealthState = {
  initialized: true,
  sealed: false,
  standby: false,
  performanceStandby: false,
  drSecondary: false,
};

describe('healthStatusCode', () => {
  it.each<[string, Partial<HealthState>, number]>([
    ['active', {}, 200],
    ['sealed', { sealed: true }, 503],
    ['not initialised', { initialized: false, sealed: true }, 501],
    ['a standby', { standby: true }, 429],
    ['a performance standby', { performanceStandby: true, standby: true }, 473],
    ['a DR secondary', { drSecondary: true }, 472],
  ])('should answer Vault’s default code when %s', (_case, state, code) => {
    expect(healthStatusCode({ ...ACTIVE, ...state }, {})).toBe(code);
  });

  it('should take the overriding codes', () => {
    expect(healthStatusCode(ACTIVE, { activecode: '204' })).toBe(204);
    expect(healthStatusCode({ ...ACTIVE, sealed: true }, { sealedcode: '200' })).toBe(200);
    expect(healthStatusCode({ ...ACTIVE, initialized: false }, { uninitcode: '299' })).toBe(299);
    expect(healthStatusCode({ ...ACTIVE, standby: true }, { standbycode: '200' })).toBe(200);
    expect(healthStatusCode({ ...ACTIVE, drSecondary: true }, { drsecondarycode: '200' })).toBe(
      200,
    );
    expect(
      healthStatusCode({ ...ACTIVE, performanceStandby: true }, { performancestandbycode: '201' }),
    ).toBe(201);
  });

  it('should answer a standby with the active code when standbyok is set, even empty', () => {
    const standby = { ...ACTIVE, standby: true };
    expect(healthStatusCode(standby, { standbyok: 'true' })).toBe(200);
    expect(healthStatusCode(standby, { standbyok: '', activecode: '202' })).toBe(202);
    expect(healthStatusCode(standby, { standbyok: 'false' })).toBe(429);
    expect(healthStatusCode({ ...ACTIVE, performanceStandby: true }, { perfstandbyok: '1' })).toBe(
      200,
    );
  });

  it('should still answer sealed when standbyok is set', () => {
    expect(healthStatusCode({ ...ACTIVE, sealed: true }, { standbyok: 'true' })).toBe(503);
  });

  it.each(['abc', '99', '600', '2000', '-1'])('should refuse the code %j', (code) => {
    expect(() => healthStatusCode(ACTIVE, { activecode: code })).toThrow(HealthQueryError);
  });
});

describe('healthBody', () => {
  const cluster = { name: 'custos', id: 'c1' };

  it('should answer Vault’s fields with replication disabled', () => {
    expect(healthBody(ACTIVE, new Date('2026-01-01T00:00:00Z'), cluster)).toEqual({
      initialized: true,
      sealed: false,
      standby: false,
      performance_standby: false,
      replication_performance_mode: 'disabled',
      replication_dr_mode: 'disabled',
      server_time_utc: 1_767_225_600,
      version: expect.stringMatching(/^1\.\d+\.\d+\+custos$/),
      enterprise: false,
      cluster_name: 'custos',
      cluster_id: 'c1',
      echo_duration_ms: 0,
      clock_skew_ms: 0,
    });
  });

  it('should name no cluster while sealed, as Vault does', () => {
    const body = healthBody({ ...ACTIVE, sealed: true }, new Date(), cluster);
    expect(body.sealed).toBe(true);
    expect(body).not.toHaveProperty('cluster_id');
  });
});
