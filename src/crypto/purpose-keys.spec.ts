import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import {
  checkValueMatches,
  computeCheckValue,
  derivePurposeKey,
  KeyPurpose,
  MASTER_KEY_BYTES,
} from './purpose-keys';

const PURPOSES: KeyPurpose[] = [
  'key-check',
  'audit-chain',
  'audit-checkpoint',
  'fingerprint',
  'totp',
  'jwt',
];
const masterKeyArb = fc
  .uint8Array({ minLength: MASTER_KEY_BYTES, maxLength: MASTER_KEY_BYTES })
  .map((bytes) => Buffer.from(bytes));

describe('derivePurposeKey', () => {
  const masterKey = randomBytes(MASTER_KEY_BYTES);

  it('should derive a 32-byte key for every purpose', () => {
    for (const purpose of PURPOSES) {
      expect(derivePurposeKey(masterKey, purpose)).toHaveLength(32);
    }
  });

  it('should be deterministic', () => {
    for (const purpose of PURPOSES) {
      const sut = derivePurposeKey(masterKey, purpose);
      expect(derivePurposeKey(Buffer.from(masterKey), purpose).equals(sut)).toBe(true);
    }
  });

  it('should derive a different key for each purpose', () => {
    const keys = PURPOSES.map((purpose) => derivePurposeKey(masterKey, purpose).toString('hex'));
    expect(new Set(keys).size).toBe(PURPOSES.length);
  });

  it('should derive different keys from different master keys and never the master key itself', () => {
    fc.assert(
      fc.property(masterKeyArb, masterKeyArb, fc.constantFrom(...PURPOSES), (a, b, purpose) => {
        fc.pre(!a.equals(b));
        const fromA = derivePurposeKey(a, purpose);
        expect(fromA.equals(derivePurposeKey(b, purpose))).toBe(false);
        expect(fromA.equals(a)).toBe(false);
      }),
    );
  });

  it('should not change the master key it is given', () => {
    const copy = Buffer.from(masterKey);
    derivePurposeKey(masterKey, 'jwt');
    expect(masterKey.equals(copy)).toBe(true);
  });

  it.each([0, 16, 31, 33, 64])('should refuse a master key of %i bytes', (length) => {
    expect(() => derivePurposeKey(Buffer.alloc(length, 7), 'totp')).toThrow(
      `master key must be ${MASTER_KEY_BYTES} bytes`,
    );
  });
});

describe('computeCheckValue and checkValueMatches', () => {
  it('should compute a stable base64 check value', () => {
    const key = randomBytes(MASTER_KEY_BYTES);
    const sut = computeCheckValue(key);
    expect(sut).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(computeCheckValue(Buffer.from(key))).toBe(sut);
  });

  it('should accept the key the check value was computed from', () => {
    fc.assert(
      fc.property(masterKeyArb, (key) => {
        expect(checkValueMatches(key, computeCheckValue(key))).toBe(true);
      }),
    );
  });

  it('should refuse any other key', () => {
    fc.assert(
      fc.property(masterKeyArb, masterKeyArb, (key, other) => {
        fc.pre(!key.equals(other));
        expect(checkValueMatches(other, computeCheckValue(key))).toBe(false);
      }),
    );
  });

  it('should refuse a key that differs in a single bit', () => {
    fc.assert(
      fc.property(
        masterKeyArb,
        fc.integer({ min: 0, max: MASTER_KEY_BYTES * 8 - 1 }),
        (key, bit) => {
          const flipped = Buffer.from(key);
          flipped[bit >> 3] ^= 1 << (bit & 7);
          expect(checkValueMatches(flipped, computeCheckValue(key))).toBe(false);
        },
      ),
    );
  });

  it('should refuse stored values of the wrong length or content without throwing', () => {
    const key = randomBytes(MASTER_KEY_BYTES);
    const stored = computeCheckValue(key);
    const sameLengthOther = `${stored[0] === 'A' ? 'B' : 'A'}${stored.slice(1)}`;
    for (const bad of ['', stored.slice(1), `${stored}=`, sameLengthOther]) {
      expect(checkValueMatches(key, bad)).toBe(false);
    }
  });

  it('should not reveal the key in the check value', () => {
    fc.assert(
      fc.property(masterKeyArb, (key) => {
        const sut = computeCheckValue(key);
        expect(sut).not.toContain(key.toString('base64'));
        expect(sut).not.toContain(key.toString('hex'));
        expect(sut).not.toBe(derivePurposeKey(key, 'key-check').toString('base64'));
      }),
    );
  });
});
