import { ConfigError } from './config-error';
import { loadAdoptionConfig } from './adoption.config';

describe('loadAdoptionConfig', () => {
  it('should count consumers over 30 days and warn an hour before the grace ends by default', () => {
    expect(loadAdoptionConfig({})).toEqual({ windowSeconds: 30 * 86_400, lagWarnSeconds: 3600 });
  });

  it('should read every variable', () => {
    expect(
      loadAdoptionConfig({ ROTATION_ADOPTION_WINDOW: 'P7D', ROTATION_ADOPTION_LAG_WARN: 'PT30M' }),
    ).toEqual({ windowSeconds: 7 * 86_400, lagWarnSeconds: 1800 });
  });

  it.each([
    ['ROTATION_ADOPTION_WINDOW', '30d'],
    ['ROTATION_ADOPTION_WINDOW', 'PT1M'],
    ['ROTATION_ADOPTION_LAG_WARN', 'PT0S'],
    ['ROTATION_ADOPTION_LAG_WARN', 'P60D'],
  ])('should refuse %s=%j, naming it', (name, value) => {
    expect(() => loadAdoptionConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadAdoptionConfig({ [name]: value })).toThrow(name);
  });
});
