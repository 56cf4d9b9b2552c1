import {
  SSH_ECDSA_P256,
  SSH_ED25519,
  SSH_ED25519_ENCRYPTED,
  SSH_ED25519_ENCRYPTED_GCM,
  SSH_RSA_2048,
  SshKeyFixture,
} from './__fixtures__/ssh-key-fixtures';
import { readOpenSshPrivateKey } from './openssh-private-key';
import { readPemBlocks } from './pem-blocks';
import { sshFingerprint, SshWireError, SshWireReader, SshWireWriter } from './ssh-wire';

const MAGIC = 'openssh-key-v1\0';

interface Parts {
  cipher: string;
  kdf: string;
  kdfOptions: Buffer;
  keys: Buffer[];
  privatePart: Buffer;
  tail: Buffer;
}

function contentOf(fixture: SshKeyFixture): Buffer {
  const reading = readPemBlocks(fixture.openSsh);
  if (!reading.ok) throw new Error(reading.problem);
  return reading.blocks[0].der;
}

/** The fixture taken apart, to put back together with one part changed. */
function partsOf(fixture: SshKeyFixture): Parts {
  const reader = new SshWireReader(contentOf(fixture).subarray(MAGIC.length));
  const cipher = reader.name();
  const kdf = reader.name();
  const kdfOptions = reader.string();
  reader.uint32();
  const keys = [reader.string()];
  const privatePart = reader.string();
  return { cipher, kdf, kdfOptions, keys, privatePart, tail: reader.bytes(reader.remaining) };
}

function build(parts: Parts): Buffer {
  const writer = new SshWireWriter()
    .string(parts.cipher)
    .string(parts.kdf)
    .string(parts.kdfOptions)
    .uint32(parts.keys.length);
  parts.keys.forEach((key) => writer.string(key));
  writer.string(parts.privatePart);
  return Buffer.concat([Buffer.from(MAGIC, 'latin1'), writer.toBuffer(), parts.tail]);
}

describe('readOpenSshPrivateKey', () => {
  it.each([
    ['an unencrypted ed25519', SSH_ED25519, 'none', 'ed25519'],
    ['an unencrypted ecdsa', SSH_ECDSA_P256, 'none', 'ecdsa'],
    ['an unencrypted rsa', SSH_RSA_2048, 'none', 'rsa'],
    ['an aes256-ctr encrypted', SSH_ED25519_ENCRYPTED, 'aes256-ctr', 'ed25519'],
    ['an aes256-gcm encrypted', SSH_ED25519_ENCRYPTED_GCM, 'aes256-gcm@openssh.com', 'ed25519'],
  ])('should read the public key of %s key', (_label, fixture, cipher, keyType) => {
    const sut = readOpenSshPrivateKey(contentOf(fixture));
    expect(sut.cipher).toBe(cipher);
    expect(sut.encrypted).toBe(cipher !== 'none');
    expect(sut.publicKey.keyType).toBe(keyType);
    expect(sut.publicKey.bits).toBe(fixture.bits);
    expect(sshFingerprint(sut.publicKey.blob)).toBe(fixture.fingerprint);
  });

  it('should read a key put back together from its parts, as the tests below do', () => {
    expect(build(partsOf(SSH_ED25519)).equals(contentOf(SSH_ED25519))).toBe(true);
    expect(
      build(partsOf(SSH_ED25519_ENCRYPTED_GCM)).equals(contentOf(SSH_ED25519_ENCRYPTED_GCM)),
    ).toBe(true);
  });

  const clear = partsOf(SSH_ED25519);
  const encrypted = partsOf(SSH_ED25519_ENCRYPTED);
  const flipped = Buffer.from(clear.privatePart);
  flipped[0] ^= 1;

  it.each([
    [
      'a wrong magic',
      Buffer.from('openssh-key-v2\0AAAA', 'latin1'),
      'it does not start with the openssh-key-v1 magic',
    ],
    ['a truncated key', contentOf(SSH_ED25519).subarray(0, 100), 'it is truncated'],
    ['trailing data', build({ ...clear, tail: Buffer.of(0) }), 'it has trailing data'],
    [
      'two keys',
      build({ ...clear, keys: [clear.keys[0], clear.keys[0]] }),
      'it must hold exactly one key',
    ],
    [
      'an unknown cipher',
      build({ ...encrypted, cipher: 'rot13' }),
      'it is encrypted with a cipher OpenSSH does not define',
    ],
    [
      'a kdf without a cipher',
      build({ ...clear, kdf: 'bcrypt' }),
      'it names a key derivation but no cipher',
    ],
    [
      'a cipher without bcrypt',
      build({ ...encrypted, kdf: 'none' }),
      'it is encrypted without the bcrypt key derivation',
    ],
    [
      'bcrypt options without a salt',
      build({ ...encrypted, kdfOptions: new SshWireWriter().string('').uint32(16).toBuffer() }),
      'its bcrypt options are malformed',
    ],
    [
      'a private part that is not whole cipher blocks',
      build({ ...encrypted, privatePart: encrypted.privatePart.subarray(8) }),
      'its private part is not a whole number of cipher blocks',
    ],
    [
      'a missing gcm tag',
      build({ ...partsOf(SSH_ED25519_ENCRYPTED_GCM), tail: Buffer.alloc(0) }),
      'it has trailing data',
    ],
    [
      'check integers that differ',
      build({ ...clear, privatePart: flipped }),
      'its private part fails its integrity check',
    ],
    [
      'a private key of another type than its header',
      build({ ...clear, keys: partsOf(SSH_ECDSA_P256).keys }),
      'its private part holds a key of another type than its header',
    ],
  ])('should refuse %s', (_label, content, message) => {
    expect(() => readOpenSshPrivateKey(content)).toThrow(new SshWireError(message));
  });
});
