import { SecretShapeError } from './secret-shape.error';
import { KV_MAX_KEYS, kvFingerprintedValue, kvScannedValues, parseKvSecret } from './kv-secret';

describe('parseKvSecret', () => {
  it('should keep a flat map of strings exactly as given, empty values included', () => {
    const input = { username: 'app ', password: 'pa55', note: '' };
    expect(parseKvSecret(input)).toEqual({ value: input, derived: {} });
  });

  it('should take an empty map, as Vault does', () => {
    expect(parseKvSecret({}).value).toEqual({});
  });

  it.each([
    ['not an object', 'text'],
    ['an array', ['a']],
    ['a nested object', { a: { b: 'c' } }],
    ['a number', { a: 1 }],
    ['null', { a: null }],
    ['an unpaired surrogate', { a: '\uD800' }],
  ])('should refuse %s', (_case, input) => {
    expect(() => parseKvSecret(input)).toThrow(SecretShapeError);
  });

  it('should refuse more keys than allowed', () => {
    const input = Object.fromEntries(
      Array.from({ length: KV_MAX_KEYS + 1 }, (_, i) => [`k${i}`, 'v']),
    );
    expect(() => parseKvSecret(input)).toThrow(SecretShapeError);
  });

  it('should never quote a key or a value in its messages', () => {
    try {
      parseKvSecret({ 'key-canary-Zt4': { v: 'value-canary-Hq8' } });
      throw new Error('accepted');
    } catch (error) {
      expect(error).toBeInstanceOf(SecretShapeError);
      const text = JSON.stringify({ message: (error as Error).message, ...(error as object) });
      expect(text).not.toContain('key-canary-Zt4');
      expect(text).not.toContain('value-canary-Hq8');
    }
  });
});

describe('kvFingerprintedValue', () => {
  it('should pick the longest value, the first key in order on a tie', () => {
    expect(kvFingerprintedValue({ user: 'app', password: 'longer-secret' })).toBe('longer-secret');
    expect(kvFingerprintedValue({ b: 'bbb', a: 'aaa' })).toBe('aaa');
  });

  it('should answer nothing for an empty map or empty values', () => {
    expect(kvFingerprintedValue({})).toBeUndefined();
    expect(kvFingerprintedValue({ a: '' })).toBeUndefined();
  });
});

describe('kvScannedValues', () => {
  it('should answer every non-empty value in key order, so a key id and its secret are both looked for', () => {
    expect(kvScannedValues({ secret: 'wJalrXUtnFEMI', id: 'AKIAIOSFODNN7', empty: '' })).toEqual([
      'AKIAIOSFODNN7',
      'wJalrXUtnFEMI',
    ]);
  });
});
