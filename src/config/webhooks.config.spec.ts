import { ConfigError } from './config-error';
import { loadWebhooksConfig } from './webhooks.config';

describe('loadWebhooksConfig', () => {
  it('should dispatch every second, 4 at a time, 8 attempts from 10 s up to an hour by default', () => {
    expect(loadWebhooksConfig({})).toEqual({
      dispatcherEnabled: true,
      dispatchIntervalMs: 1000,
      concurrency: 4,
      maxAttempts: 8,
      retryBackoffMs: 10_000,
      retryBackoffMaxMs: 3_600_000,
    });
  });

  it('should read every variable', () => {
    expect(
      loadWebhooksConfig({
        WEBHOOKS_DISPATCHER_ENABLED: 'false',
        WEBHOOKS_DISPATCH_INTERVAL_MS: '250',
        WEBHOOKS_CONCURRENCY: '2',
        WEBHOOKS_MAX_ATTEMPTS: '3',
        WEBHOOKS_RETRY_BACKOFF: 'PT1S',
        WEBHOOKS_RETRY_BACKOFF_MAX: 'PT5S',
      }),
    ).toEqual({
      dispatcherEnabled: false,
      dispatchIntervalMs: 250,
      concurrency: 2,
      maxAttempts: 3,
      retryBackoffMs: 1000,
      retryBackoffMaxMs: 5000,
    });
  });

  it.each([
    ['WEBHOOKS_DISPATCH_INTERVAL_MS', '10'],
    ['WEBHOOKS_CONCURRENCY', '0'],
    ['WEBHOOKS_MAX_ATTEMPTS', '51'],
    ['WEBHOOKS_RETRY_BACKOFF', '10s'],
    ['WEBHOOKS_RETRY_BACKOFF', 'PT0S'],
    ['WEBHOOKS_DISPATCHER_ENABLED', 'sometimes'],
  ])('should refuse %s=%j, naming it', (name, value) => {
    expect(() => loadWebhooksConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadWebhooksConfig({ [name]: value })).toThrow(name);
  });

  it('should refuse a longest backoff shorter than the first', () => {
    expect(() =>
      loadWebhooksConfig({ WEBHOOKS_RETRY_BACKOFF: 'PT1M', WEBHOOKS_RETRY_BACKOFF_MAX: 'PT10S' }),
    ).toThrow(/WEBHOOKS_RETRY_BACKOFF_MAX: must not be shorter/);
  });
});
