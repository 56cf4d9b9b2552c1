import { ConfigError } from './config-error';
import { loadDetectorsConfig } from './detectors.config';

describe('loadDetectorsConfig', () => {
  it('should default to every detector on, verification hourly', () => {
    const config = loadDetectorsConfig({});
    expect(config).toMatchObject({
      enabled: true,
      bruteForce: { enabled: true, threshold: 10, ipThreshold: 20, windowSeconds: 600 },
      massReveal: { enabled: true, threshold: 20, windowSeconds: 300, suspend: false },
      rotationFailure: { enabled: true, threshold: 3, windowSeconds: 86_400 },
      auditTamper: { enabled: true, intervalMs: 3_600_000 },
    });
  });

  it('should read each setting from its variable', () => {
    const config = loadDetectorsConfig({
      DETECT_MASS_REVEAL_SUSPEND: 'true',
      DETECT_BRUTE_FORCE_ENABLED: 'false',
      DETECT_ROTATION_FAILURE_WINDOW: 'PT2H',
    });
    expect(config.massReveal.suspend).toBe(true);
    expect(config.bruteForce.enabled).toBe(false);
    expect(config.rotationFailure.windowSeconds).toBe(7200);
  });

  it('should name the variable of a bad value', () => {
    expect(() => loadDetectorsConfig({ DETECT_MASS_REVEAL_THRESHOLD: '1' })).toThrow(ConfigError);
    expect(() => loadDetectorsConfig({ DETECT_MASS_REVEAL_THRESHOLD: '1' })).toThrow(
      /DETECT_MASS_REVEAL_THRESHOLD/,
    );
  });
});
