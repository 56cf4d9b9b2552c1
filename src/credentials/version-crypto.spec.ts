import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { Kek } from '../crypto/envelope';
import type { KeyringService } from '../crypto/keyring.service';
import { derivePurposeKey } from '../crypto/purpose-keys';
import { CredentialVersion } from './entities/credential-version.entity';
import { VersionCrypto } from './version-crypto';

const k1: Kek = { id: 'k1', key: randomBytes(32) };
const k2: Kek = { id: 'k2', key: randomBytes(32) };
const manager = {} as EntityManager;

/** The part of the keyring VersionCrypto uses, over two in-memory keys with k1 active. */
function keyring(active: Kek = k1): KeyringService {
  const keys = new Map([k1, k2].map((k) => [k.id, k]));
  return {
    activeKek: () => Promise.resolve(active),
    kek: (id: string) => keys.get(id)!,
    purposeKeyFor: (id: string, purpose: 'fingerprint') =>
      keys.has(id) ? derivePurposeKey(keys.get(id)!.key, purpose) : undefined,
  } as unknown as KeyringService;
}

function asRow(version: number, sealed: Partial<CredentialVersion>): CredentialVersion {
  return Object.assign(new CredentialVersion(), { version, ...sealed });
}

describe('VersionCrypto', () => {
  const id = randomUUID();
  const secret = { password: 'CANARY-pw-4d1f' };

  it('should open what it sealed, under the active key', async () => {
    const sut = new VersionCrypto(keyring());
    const sealed = await sut.seal(manager, id, 1, 'password', secret);
    expect(sealed.kekId).toBe('k1');
    expect(sut.open(id, asRow(1, sealed))).toEqual(secret);
  });

  it('should store no plaintext: the ciphertext holds neither the value nor the JSON', async () => {
    const sealed = await new VersionCrypto(keyring()).seal(manager, id, 1, 'password', secret);
    const stored = JSON.stringify(sealed) + sealed.ciphertext!.toString('utf8');
    expect(stored).not.toContain(secret.password);
  });

  it('should fingerprint with a keyed HMAC, not a plain hash, and differently per key', async () => {
    const first = await new VersionCrypto(keyring(k1)).seal(manager, id, 1, 'password', secret);
    const second = await new VersionCrypto(keyring(k2)).seal(manager, id, 1, 'password', secret);
    const plain = createHash('sha256').update(secret.password).digest('hex');
    expect(first.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(first.fingerprint).not.toBe(plain);
    expect(first.fingerprint).not.toBe(second.fingerprint);
  });

  it('should fingerprint the same value the same way under one key, whatever the version', async () => {
    const sut = new VersionCrypto(keyring());
    const a = await sut.seal(manager, id, 1, 'password', secret);
    const b = await sut.seal(manager, randomUUID(), 7, 'password', secret);
    expect(a.fingerprint).toBe(b.fingerprint);
  });

  it('should have no fingerprint for a certificate without a private key', async () => {
    const sut = new VersionCrypto(keyring());
    const sealed = await sut.seal(manager, id, 1, 'certificate', { certificate: 'PEM' });
    expect(sealed.fingerprint).toBeNull();
  });

  it('should move a version to another key without changing its ciphertext', async () => {
    const sut = new VersionCrypto(keyring());
    const sealed = await sut.seal(manager, id, 3, 'password', secret);
    const moved = sut.rewrap(id, 'password', asRow(3, sealed), k2);
    expect(moved.kekId).toBe('k2');
    expect(moved.wrappedDek).not.toBe(sealed.wrappedDek);
    expect(moved.fingerprint).toBe(sut.fingerprint('k2', 'password', secret));
    expect(sut.open(id, asRow(3, { ...sealed, ...moved }))).toEqual(secret);
  });

  it('should refuse to open a version whose ciphertext was wiped', async () => {
    const sut = new VersionCrypto(keyring());
    const sealed = await sut.seal(manager, id, 1, 'password', secret);
    expect(() => sut.open(id, asRow(1, { ...sealed, ciphertext: null, wrappedDek: null }))).toThrow(
      'holds no ciphertext',
    );
  });

  it('should refuse to open a version as another version or credential', async () => {
    const sut = new VersionCrypto(keyring());
    const sealed = await sut.seal(manager, id, 1, 'password', secret);
    expect(() => sut.open(id, asRow(2, sealed))).toThrow();
    expect(() => sut.open(randomUUID(), asRow(1, sealed))).toThrow();
  });
});
