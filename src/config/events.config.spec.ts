import { ConfigError } from './config-error';
import { loadEventsConfig } from './events.config';

describe('loadEventsConfig', () => {
  it('should number events every 200 ms, poll every 250 ms and beat every 15 s by default', () => {
    expect(loadEventsConfig({})).toEqual({
      sequenceIntervalMs: 200,
      streamPollMs: 250,
      streamHeartbeatMs: 15_000,
    });
  });

  it('should read every variable', () => {
    expect(
      loadEventsConfig({
        EVENTS_SEQUENCE_INTERVAL_MS: '100',
        EVENTS_STREAM_POLL_MS: '500',
        EVENTS_STREAM_HEARTBEAT: 'PT1M',
      }),
    ).toEqual({ sequenceIntervalMs: 100, streamPollMs: 500, streamHeartbeatMs: 60_000 });
  });

  it.each([
    ['EVENTS_SEQUENCE_INTERVAL_MS', '10'],
    ['EVENTS_SEQUENCE_INTERVAL_MS', 'fast'],
    ['EVENTS_STREAM_POLL_MS', '20000'],
    ['EVENTS_STREAM_HEARTBEAT', 'PT0S'],
    ['EVENTS_STREAM_HEARTBEAT', 'PT10M'],
    ['EVENTS_STREAM_HEARTBEAT', '15s'],
  ])('should refuse %s=%j, naming it', (name, value) => {
    expect(() => loadEventsConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadEventsConfig({ [name]: value })).toThrow(name);
  });
});
