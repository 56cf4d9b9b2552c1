import { ConfigError } from './config-error';
import { loadRotationConfig } from './rotation.config';

const BUILT_IN_DEFAULTS = {
  password: { interval: 'P30D', gracePeriod: 'PT48H' },
  api_key: { interval: 'P90D', gracePeriod: 'PT24H' },
  oauth: { interval: 'P90D', gracePeriod: 'PT24H' },
  ssh_key: { interval: 'P90D', gracePeriod: 'PT24H' },
  shared_secret: { interval: 'P90D', gracePeriod: 'PT24H' },
  jwt: { interval: 'P90D', gracePeriod: 'PT24H' },
  connection_string: { interval: 'P90D', gracePeriod: 'PT24H' },
  certificate: { interval: 'P90D', gracePeriod: 'PT24H' },
  kv: { interval: 'P90D', gracePeriod: 'PT24H' },
};

function problemsFor(env: Record<string, string>): readonly string[] {
  try {
    loadRotationConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(env)}`);
}

describe('loadRotationConfig', () => {
  it('should use the defaults when the environment is empty', () => {
    expect(loadRotationConfig({})).toEqual({
      schedulerEnabled: true,
      tickMs: 60_000,
      concurrency: 4,
      batchSize: 50,
      maxAttempts: 3,
      retryBackoffMs: 10_000,
      failedRetryAfterSeconds: 3600,
      claimTtlMs: 120_000,
      stepTimeoutMs: 30_000,
      manualOverdueAfterSeconds: 3 * 86_400,
      overdueAfterSeconds: 3600,
      degradedOverdueCount: 1,
      sweepIntervalMs: 60_000,
      destroyAfterSeconds: 30 * 86_400,
      expiryWarningSeconds: 14 * 86_400,
      defaults: BUILT_IN_DEFAULTS,
    });
  });

  it('should override the interval and grace of the types ROTATION_DEFAULTS names, and only those', () => {
    const sut = loadRotationConfig({
      ROTATION_DEFAULTS: JSON.stringify({
        api_key: { interval: 'P60D', gracePeriod: 'PT12H' },
        certificate: { interval: 'P365D' },
        password: { gracePeriod: 'PT1H' },
      }),
    });

    expect(sut.defaults).toEqual({
      ...BUILT_IN_DEFAULTS,
      api_key: { interval: 'P60D', gracePeriod: 'PT12H' },
      certificate: { interval: 'P365D', gracePeriod: 'PT24H' },
      password: { interval: 'P30D', gracePeriod: 'PT1H' },
    });
  });

  it('should accept an empty object', () => {
    expect(loadRotationConfig({ ROTATION_DEFAULTS: '{}' }).defaults).toEqual(BUILT_IN_DEFAULTS);
  });

  it.each([
    ['text that is not JSON', 'api_key=P60D', /must be a JSON object/],
    ['a JSON array', '[]', /must be a JSON object/],
    ['a JSON string', '"P60D"', /must be a JSON object/],
    ['an unknown credential type', '{"ftp":{"interval":"P1D"}}', /'ftp' is not a credential type/],
    ['an entry that is not an object', '{"api_key":"P60D"}', /api_key must be an object/],
    ['an unknown setting', '{"api_key":{"every":"P60D"}}', /api_key\.every is not a setting/],
    ['a bad duration', '{"api_key":{"interval":"60 days"}}', /api_key\.interval must be an ISO/],
    [
      'an interval under a minute',
      '{"jwt":{"interval":"PT30S","gracePeriod":"PT0S"}}',
      /jwt\.interval must be at least PT1M/,
    ],
    [
      'a grace longer than the interval',
      '{"password":{"interval":"P1D"}}',
      /password\.gracePeriod \(PT48H\) must not be longer than its interval \(P1D\)/,
    ],
  ])('should refuse %s, naming ROTATION_DEFAULTS', (_case, value, reason) => {
    const problems = problemsFor({ ROTATION_DEFAULTS: value });

    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^ROTATION_DEFAULTS: /);
    expect(problems[0]).toMatch(reason);
  });

  it.each([
    ['ROTATION_TICK', '1m'],
    ['ROTATION_CONCURRENCY', '0'],
    ['ROTATION_BATCH_SIZE', '501'],
    ['ROTATION_MAX_ATTEMPTS', '11'],
    ['ROTATION_SCHEDULER_ENABLED', 'maybe'],
  ])('should refuse %s=%j, naming it', (name, value) => {
    expect(problemsFor({ [name]: value })[0]).toMatch(new RegExp(`^${name}: `));
  });
});
