import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { Kek } from '../crypto/envelope';
import type { KeyringService } from '../crypto/keyring.service';
import { derivePurposeKey } from '../crypto/purpose-keys';
import { CredentialVersion } from './entities/credential-version.entity';
import { scannedValues, VersionCrypto } from './version-crypto';

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

  it('should fingerprint every value of a kv secret long enough to be a secret, with its length', async () => {
    const sut = new VersionCrypto(keyring());
    const kv = {
      accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
      secretAccessKey: 'wJalrXUtnFEMI/K7MDENG',
      region: 'eu',
    };

    const sealed = await sut.seal(manager, id, 1, 'kv', kv);

    const expected = [kv.accessKeyId, kv.secretAccessKey].map((value) => ({
      fingerprint: sut.fingerprint('k1', 'password', { password: value }),
      valueLength: value.length,
    }));
    expect(sealed.fingerprints).toEqual(expected);
  });

  it('should carry the fingerprints of every value to the new key on a re-wrap', async () => {
    const sut = new VersionCrypto(keyring());
    const ssh = { privateKey: 'PRIVATE-KEY-PEM', passphrase: 'open sesame' };
    const sealed = await sut.seal(manager, id, 2, 'ssh_key', ssh);

    const moved = sut.rewrap(id, 'ssh_key', asRow(2, sealed), k2);

    expect(moved.fingerprints).toEqual(sut.fingerprints('k2', 'ssh_key', ssh));
    expect(moved.fingerprints).toHaveLength(2);
    expect(moved.fingerprints).not.toEqual(sealed.fingerprints);
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

describe('scannedValues', () => {
  it('should take the secret fields of a type, not its ids, public keys or certificates', () => {
    expect(
      scannedValues('oauth', { clientId: 'client-id-123', clientSecret: 'client-secret-456' }),
    ).toEqual(['client-secret-456']);
    expect(
      scannedValues('ssh_key', {
        privateKey: 'PEM-block',
        passphrase: 'open sesame',
        publicKey: 'ssh-ed25519 AAAA',
      }),
    ).toEqual(['PEM-block', 'open sesame']);
    expect(scannedValues('certificate', { certificate: 'CERT-PEM' })).toEqual([]);
  });

  it('should take every kv value once, in key order, and skip the ones shorter than a candidate', () => {
    expect(
      scannedValues('kv', {
        b: 'second-value',
        a: 'first-value',
        c: 'short',
        d: 'first-value',
        e: '',
      }),
    ).toEqual(['first-value', 'second-value']);
  });

  it('should take a connection string and the password inside it, if long enough', () => {
    const dsn = 'mysql://app:s3cr3t-pw@db.example.test:3306/app';
    expect(scannedValues('connection_string', { connectionString: dsn })).toEqual([
      dsn,
      's3cr3t-pw',
    ]);
    expect(
      scannedValues('connection_string', { connectionString: 'mysql://app:pw@db/app' }),
    ).toEqual(['mysql://app:pw@db/app']);
  });
});
