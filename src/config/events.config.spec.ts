import { ConfigError } from './config-error';
import { loadEventsConfig } from './events.config';

describe('loadEventsConfig', () => {
  it('should number events every 200 ms by default', () => {
    expect(loadEventsConfig({})).toEqual({ sequenceIntervalMs: 200 });
  });

  it('should read every variable', () => {
    expect(loadEventsConfig({ EVENTS_SEQUENCE_INTERVAL_MS: '100' })).toEqual({
      sequenceIntervalMs: 100,
    });
  });

  it.each([
    ['EVENTS_SEQUENCE_INTERVAL_MS', '10'],
    ['EVENTS_SEQUENCE_INTERVAL_MS', 'fast'],
  ])('should refuse %s=%j, naming it', (name, value) => {
    expect(() => loadEventsConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadEventsConfig({ [name]: value })).toThrow(name);
  });
});
