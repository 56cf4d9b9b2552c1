import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { open, seal } from './sealed-box';

describe('sealed box', () => {
  const key = randomBytes(32);

  it('should round-trip any value', () => {
    fc.assert(
      fc.property(fc.string(), fc.string({ minLength: 1 }), (value, aad) => {
        expect(open(key, seal(key, value, aad), aad)).toBe(value);
      }),
    );
  });

  it('should refuse another key, another owner, and any changed character', () => {
    const sealed = seal(key, 'JBSWY3DPEHPK3PXPJBSWY3DP', 'user-1');
    expect(() => open(randomBytes(32), sealed, 'user-1')).toThrow();
    expect(() => open(key, sealed, 'user-2')).toThrow();
    // A flipped bit in the nonce, the tag or the ciphertext.
    const parts = sealed.split('.');
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }),
        fc.nat(),
        fc.integer({ min: 0, max: 7 }),
        (part, at, bit) => {
          const bytes = Buffer.from(parts[part], 'base64url');
          bytes[at % bytes.length] ^= 1 << bit;
          const tampered = parts
            .map((p, i) => (i === part ? bytes.toString('base64url') : p))
            .join('.');
          expect(() => open(key, tampered, 'user-1')).toThrow();
        },
      ),
    );
  });

  it('should never contain the value', () => {
    expect(seal(key, 'JBSWY3DPEHPK3PXPJBSWY3DP', 'u')).not.toContain('JBSWY3DP');
  });
});
