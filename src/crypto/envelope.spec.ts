import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import {
  decryptSecret,
  encryptSecret,
  Kek,
  rewrapDek,
  SealedSecret,
  WRAPPED_DEK_BYTES,
} from './envelope';

const kek = (id = 'k1'): Kek => ({ id, key: randomBytes(32) });
const binding = { credentialId: '7d0f5c6e-3f1d-4a43-9c55-1f4a4c3f8b11', version: 3 };

describe('envelope encryption', () => {
  const k1 = kek('k1');

  it('should round-trip any value, with a fresh data key and nonce every time', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4096 }), (bytes) => {
        const value = Buffer.from(bytes);
        const a = encryptSecret(k1, value, binding);
        const b = encryptSecret(k1, value, binding);
        expect(decryptSecret(k1, a, binding)).toEqual(value);
        expect(a.iv.equals(b.iv)).toBe(false);
        expect(a.wrappedDek.equals(b.wrappedDek)).toBe(false);
        expect(a.wrappedDek).toHaveLength(WRAPPED_DEK_BYTES);
      }),
      { numRuns: 50 },
    );
  });

  it('should fail on any flipped bit in the ciphertext, nonce, tag or wrapped key', () => {
    const sealed = encryptSecret(k1, Buffer.from('canary-secret-value'), binding);
    const parts = ['ciphertext', 'iv', 'tag', 'wrappedDek'] as const;
    fc.assert(
      fc.property(
        fc.constantFrom(...parts),
        fc.nat(),
        fc.integer({ min: 0, max: 7 }),
        (part, at, bit) => {
          const copy: SealedSecret = { ...sealed, [part]: Buffer.from(sealed[part]) };
          copy[part][at % copy[part].length] ^= 1 << bit;
          expect(() => decryptSecret(k1, copy, binding)).toThrow();
        },
      ),
    );
  });

  it('should refuse a ciphertext or a wrapped key moved to another version or credential', () => {
    const v3 = encryptSecret(k1, Buffer.from('version three'), binding);
    const v4 = encryptSecret(k1, Buffer.from('version four'), { ...binding, version: 4 });
    expect(() => decryptSecret(k1, v3, { ...binding, version: 4 })).toThrow();
    expect(() =>
      decryptSecret(
        k1,
        { ...v4, ciphertext: v3.ciphertext, iv: v3.iv, tag: v3.tag },
        { ...binding, version: 4 },
      ),
    ).toThrow();
    expect(() =>
      decryptSecret(k1, { ...v4, wrappedDek: v3.wrappedDek }, { ...binding, version: 4 }),
    ).toThrow();
    expect(() => decryptSecret(k1, v3, { ...binding, credentialId: 'another' })).toThrow();
  });

  it('should refuse the wrong master key, even under the right key id', () => {
    const sealed = encryptSecret(k1, Buffer.from('x'), binding);
    expect(() => decryptSecret({ id: 'k1', key: randomBytes(32) }, sealed, binding)).toThrow();
    expect(() => decryptSecret(kek('k2'), sealed, binding)).toThrow(/wrapped by key "k1"/);
  });

  it('should re-wrap the data key under a new master key without touching the value', () => {
    const k2 = kek('k2');
    const sealed = encryptSecret(k1, Buffer.from('rotate me'), binding);
    const rewrapped = rewrapDek(k1, k2, sealed.wrappedDek, binding);
    const moved: SealedSecret = { ...sealed, ...rewrapped };
    expect(moved.ciphertext).toBe(sealed.ciphertext);
    expect(decryptSecret(k2, moved, binding).toString()).toBe('rotate me');
    expect(() => decryptSecret(k1, { ...moved, kekId: 'k1' }, binding)).toThrow();
    // A wrapped key relabelled with another key id does not open either.
    expect(() => rewrapDek({ ...k2, id: 'k3' }, k1, rewrapped.wrappedDek, binding)).toThrow();
  });

  it('should never contain the value in any stored part', () => {
    const value = Buffer.from('canary-secret-value-0123456789');
    const sealed = encryptSecret(k1, value, binding);
    for (const part of [sealed.ciphertext, sealed.iv, sealed.tag, sealed.wrappedDek]) {
      expect(part.includes(value)).toBe(false);
    }
  });
});
