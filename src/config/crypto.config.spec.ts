import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { ConfigError } from './config-error';
import { loadCryptoConfig } from './crypto.config';

function configErrorFor(env: Record<string, string>): ConfigError {
  try {
    loadCryptoConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(env)}`);
}

describe('loadCryptoConfig', () => {
  it('should have no key and the id "k1" when the environment is empty', () => {
    expect(loadCryptoConfig({})).toEqual({
      masterKey: undefined,
      masterKeyFile: undefined,
      masterKeys: undefined,
      masterKeysDir: undefined,
      masterKeyId: 'k1',
    });
  });

  it('should pass a well-formed key, a key file and a key id through', () => {
    const key = randomBytes(32).toString('base64');
    const sut = loadCryptoConfig({
      CUSTOS_MASTER_KEY: key,
      CUSTOS_MASTER_KEY_FILE: '/run/secrets/custos.key',
      CUSTOS_MASTER_KEY_ID: 'prod-2024',
    });
    expect(sut).toEqual({
      masterKey: key,
      masterKeyFile: '/run/secrets/custos.key',
      masterKeys: undefined,
      masterKeysDir: undefined,
      masterKeyId: 'prod-2024',
    });
  });

  it('should accept any 32-byte key encoded as base64', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (bytes) => {
        const key = Buffer.from(bytes).toString('base64');
        expect(loadCryptoConfig({ CUSTOS_MASTER_KEY: key }).masterKey).toBe(key);
      }),
    );
  });

  it.each([
    ['CUSTOS_MASTER_KEY', 'short'],
    ['CUSTOS_MASTER_KEY', randomBytes(16).toString('base64')],
    ['CUSTOS_MASTER_KEY', randomBytes(33).toString('base64')],
    ['CUSTOS_MASTER_KEY_ID', 'Bad Id'],
    ['CUSTOS_MASTER_KEY_ID', '-leading-dash'],
    ['CUSTOS_MASTER_KEY_ID', 'a'.repeat(33)],
  ])('should throw a ConfigError naming %s when it is %j', (name, value) => {
    const error = configErrorFor({ [name]: value });
    expect(error.message).toContain(name);
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toMatch(new RegExp(`^${name}: `));
  });

  it('should never echo a malformed master key', () => {
    const error = configErrorFor({ CUSTOS_MASTER_KEY: 'short' });
    expect(error.message).not.toContain('short');
  });

  it('should never echo any malformed master key, however close to valid', () => {
    const template = configErrorFor({ CUSTOS_MASTER_KEY: 'short' }).message;
    fc.assert(
      fc.property(fc.string({ minLength: 6 }), (value) => {
        // Skip valid keys and values that happen to be words of the message itself.
        fc.pre(!/^[A-Za-z0-9+/]{43}=$/.test(value) && !template.includes(value));
        const error = configErrorFor({ CUSTOS_MASTER_KEY: value });
        expect(error.message).not.toContain(value);
        expect(error.message).not.toContain(JSON.stringify(value));
      }),
    );
  });

  it('should pass several keys and a key directory through', () => {
    const k1 = randomBytes(32).toString('base64');
    const k2 = randomBytes(32).toString('base64');
    const sut = loadCryptoConfig({
      CUSTOS_MASTER_KEYS: `k1:${k1},prod-2:${k2}`,
      CUSTOS_MASTER_KEYS_DIR: '/run/secrets/custos',
    });
    expect(sut.masterKeys).toBe(`k1:${k1},prod-2:${k2}`);
    expect(sut.masterKeysDir).toBe('/run/secrets/custos');
  });

  it.each([
    ['no id', () => randomBytes(32).toString('base64')],
    ['a bad id', () => `K1:${randomBytes(32).toString('base64')}`],
    ['a short key', () => `k1:${randomBytes(16).toString('base64')}`],
    ['a trailing comma', () => `k1:${randomBytes(32).toString('base64')},`],
  ])('should refuse CUSTOS_MASTER_KEYS with %s, without echoing it', (_case, make) => {
    const value = make();
    const error = configErrorFor({ CUSTOS_MASTER_KEYS: value });
    expect(error.problems).toEqual([
      'CUSTOS_MASTER_KEYS: must be a comma-separated list of <key id>:<32 bytes in base64> (got "***")',
    ]);
    expect(error.message).not.toContain(value);
  });
});
