import { ConfigError } from './config-error';
import { loadLeakScanConfig } from './leak-scan.config';

describe('loadLeakScanConfig', () => {
  it('should neither contain nor suspend by default, and group detections over a day', () => {
    expect(loadLeakScanConfig({})).toEqual({
      containByDefault: false,
      decoySuspendPrincipal: false,
      incidentWindowSeconds: 86_400,
    });
  });

  it('should read every variable', () => {
    expect(
      loadLeakScanConfig({
        SCAN_CONTAIN_BY_DEFAULT: 'true',
        DECOY_SUSPEND_PRINCIPAL: 'true',
        LEAK_INCIDENT_WINDOW: 'PT1H',
      }),
    ).toEqual({ containByDefault: true, decoySuspendPrincipal: true, incidentWindowSeconds: 3600 });
  });

  it.each([
    ['SCAN_CONTAIN_BY_DEFAULT', 'sometimes'],
    ['DECOY_SUSPEND_PRINCIPAL', 'yes please'],
    ['LEAK_INCIDENT_WINDOW', '1h'],
  ])('should refuse %s=%j, naming it', (name, value) => {
    expect(() => loadLeakScanConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadLeakScanConfig({ [name]: value })).toThrow(name);
  });
});
