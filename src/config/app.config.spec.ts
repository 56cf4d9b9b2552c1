import { resolve } from 'node:path';
import { loadAppConfig } from './app.config';
import { ConfigError } from './config-error';

function configErrorFor(env: Record<string, string>): ConfigError {
  try {
    loadAppConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(env)}`);
}

describe('loadAppConfig', () => {
  it('should use the defaults when the environment is empty', () => {
    const sut = loadAppConfig({});
    expect(sut).toEqual({
      nodeEnv: 'development',
      isProduction: false,
      host: '127.0.0.1',
      port: 3000,
      logLevel: 'info',
      corsOrigins: [],
      bodyLimit: 1024 * 1024,
      throttle: { limit: 300, ttlMs: 60_000 },
      revealRateLimit: 6000,
      trustProxy: false,
      dataDir: resolve('./data'),
      shutdownTimeoutMs: 10_000,
    });
  });

  it('should treat empty strings as not set', () => {
    const sut = loadAppConfig({ PORT: '', NODE_ENV: '', CORS_ORIGINS: '' });
    expect(sut.port).toBe(3000);
    expect(sut.nodeEnv).toBe('development');
    expect(sut.corsOrigins).toEqual([]);
  });

  it('should parse valid values', () => {
    const sut = loadAppConfig({
      NODE_ENV: 'production',
      HOST: '0.0.0.0',
      PORT: '8080',
      LOG_LEVEL: 'debug',
      CORS_ORIGINS: 'https://a.example, https://b.example',
      BODY_LIMIT: '2048',
      THROTTLE_LIMIT: '10',
      THROTTLE_TTL_SECONDS: '5',
      TRUST_PROXY: 'true',
      CUSTOS_DATA_DIR: '/var/lib/custos',
      SHUTDOWN_TIMEOUT_MS: '2500',
    });
    expect(sut).toEqual({
      nodeEnv: 'production',
      isProduction: true,
      host: '0.0.0.0',
      port: 8080,
      logLevel: 'debug',
      corsOrigins: ['https://a.example', 'https://b.example'],
      bodyLimit: 2048,
      throttle: { limit: 10, ttlMs: 5000 },
      revealRateLimit: 6000,
      trustProxy: true,
      dataDir: '/var/lib/custos',
      shutdownTimeoutMs: 2500,
    });
  });

  it('should parse "0" and "false" as false and "1" and "true" as true', () => {
    expect(loadAppConfig({ TRUST_PROXY: '0' }).trustProxy).toBe(false);
    expect(loadAppConfig({ TRUST_PROXY: 'false' }).trustProxy).toBe(false);
    expect(loadAppConfig({ TRUST_PROXY: '1' }).trustProxy).toBe(true);
    expect(loadAppConfig({ TRUST_PROXY: 'true' }).trustProxy).toBe(true);
  });

  it('should accept "*" and drop blank entries in CORS_ORIGINS', () => {
    expect(loadAppConfig({ CORS_ORIGINS: '*' }).corsOrigins).toEqual(['*']);
    expect(loadAppConfig({ CORS_ORIGINS: ' http://localhost:5173 ,, ' }).corsOrigins).toEqual([
      'http://localhost:5173',
    ]);
  });

  it('should resolve a relative data directory to an absolute path', () => {
    expect(loadAppConfig({ CUSTOS_DATA_DIR: 'relative/dir' }).dataDir).toBe(
      resolve('relative/dir'),
    );
  });

  it('should ignore variables it does not declare', () => {
    expect(() => loadAppConfig({ UNRELATED: 'anything', PATH: '/usr/bin' })).not.toThrow();
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PORT', '-1'],
    ['PORT', '80.5'],
    ['LOG_LEVEL', 'loud'],
    ['BODY_LIMIT', 'x'],
    ['BODY_LIMIT', '10'],
    ['NODE_ENV', 'staging'],
    ['CORS_ORIGINS', 'ftp://x'],
    ['CORS_ORIGINS', 'https://a.example/path'],
    ['TRUST_PROXY', 'maybe'],
    ['THROTTLE_LIMIT', '0'],
    ['THROTTLE_TTL_SECONDS', 'soon'],
    ['SHUTDOWN_TIMEOUT_MS', '0'],
  ])('should throw a ConfigError naming %s when it is %j', (name, value) => {
    const error = configErrorFor({ [name]: value });
    expect(error.message).toContain(name);
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toMatch(new RegExp(`^${name}: `));
  });

  it('should report every bad variable at once', () => {
    const error = configErrorFor({ PORT: 'abc', LOG_LEVEL: 'loud', NODE_ENV: 'staging' });
    expect(error.problems).toHaveLength(3);
    expect(error.message).toContain('PORT');
    expect(error.message).toContain('LOG_LEVEL');
    expect(error.message).toContain('NODE_ENV');
  });

  it('should show a non-secret bad value so the operator can fix it', () => {
    expect(configErrorFor({ LOG_LEVEL: 'loud' }).message).toContain('"loud"');
  });

  it('should refuse a skewed clock in production, a test hook only', () => {
    expect(
      configErrorFor({ NODE_ENV: 'production', CUSTOS_CLOCK_SKEW_MS: '60000' }).message,
    ).toContain('CUSTOS_CLOCK_SKEW_MS');
    expect(() => loadAppConfig({ NODE_ENV: 'test', CUSTOS_CLOCK_SKEW_MS: '-60000' })).not.toThrow();
  });
});
