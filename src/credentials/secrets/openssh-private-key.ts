import { readSshPublicKey, SshPublicKey, SshWireError, SshWireReader } from './ssh-wire';

/**
 * The header of an OpenSSH private key (`-----BEGIN OPENSSH PRIVATE KEY-----`, format
 * `openssh-key-v1`, see OpenSSH's PROTOCOL.key). Node cannot read this format and Custos does not
 * decrypt it: it checks the structure, and reads the public key, which the header holds in clear
 * even when the private part is encrypted. An unencrypted private part is checked further: its
 * two check integers agree and it holds a key of the header's type.
 */
export interface OpenSshPrivateKeyHeader {
  /** `none` when the private part is not encrypted. */
  cipher: string;
  encrypted: boolean;
  publicKey: SshPublicKey;
}

const MAGIC = Buffer.from('openssh-key-v1\0', 'latin1');

/** Block size and length of the authentication tag written after the private part. */
const CIPHERS: ReadonlyMap<string, { blockBytes: number; tagBytes: number }> = new Map([
  ['none', { blockBytes: 8, tagBytes: 0 }],
  ['3des-cbc', { blockBytes: 8, tagBytes: 0 }],
  ['aes128-cbc', { blockBytes: 16, tagBytes: 0 }],
  ['aes192-cbc', { blockBytes: 16, tagBytes: 0 }],
  ['aes256-cbc', { blockBytes: 16, tagBytes: 0 }],
  ['aes128-ctr', { blockBytes: 16, tagBytes: 0 }],
  ['aes192-ctr', { blockBytes: 16, tagBytes: 0 }],
  ['aes256-ctr', { blockBytes: 16, tagBytes: 0 }],
  ['aes128-gcm@openssh.com', { blockBytes: 16, tagBytes: 16 }],
  ['aes256-gcm@openssh.com', { blockBytes: 16, tagBytes: 16 }],
  ['chacha20-poly1305@openssh.com', { blockBytes: 8, tagBytes: 16 }],
]);

/** Reads the binary content of an OPENSSH PRIVATE KEY block; throws SshWireError when malformed. */
export function readOpenSshPrivateKey(data: Buffer): OpenSshPrivateKeyHeader {
  if (data.length < MAGIC.length || !data.subarray(0, MAGIC.length).equals(MAGIC))
    throw new SshWireError('it does not start with the openssh-key-v1 magic');
  const reader = new SshWireReader(data.subarray(MAGIC.length));
  const cipher = reader.name();
  const kdf = reader.name();
  const kdfOptions = reader.string();
  const keyCount = reader.uint32();
  if (keyCount !== 1) throw new SshWireError('it must hold exactly one key');
  const publicKey = readSshPublicKey(reader.string());
  const privatePart = reader.string();

  const spec = CIPHERS.get(cipher);
  if (!spec) throw new SshWireError('it is encrypted with a cipher OpenSSH does not define');
  if (reader.remaining !== spec.tagBytes) throw new SshWireError('it has trailing data');
  if (privatePart.length === 0 || privatePart.length % spec.blockBytes !== 0)
    throw new SshWireError('its private part is not a whole number of cipher blocks');

  const encrypted = cipher !== 'none';
  if (encrypted) checkBcryptOptions(kdf, kdfOptions);
  else {
    if (kdf !== 'none' || kdfOptions.length !== 0)
      throw new SshWireError('it names a key derivation but no cipher');
    checkClearPrivatePart(privatePart, publicKey);
  }
  return { cipher, encrypted, publicKey };
}

function checkBcryptOptions(kdf: string, options: Buffer): void {
  if (kdf !== 'bcrypt') throw new SshWireError('it is encrypted without the bcrypt key derivation');
  const reader = new SshWireReader(options);
  const salt = reader.string();
  const rounds = reader.uint32();
  reader.end();
  if (salt.length === 0 || rounds === 0) throw new SshWireError('its bcrypt options are malformed');
}

function checkClearPrivatePart(privatePart: Buffer, publicKey: SshPublicKey): void {
  const reader = new SshWireReader(privatePart);
  if (reader.uint32() !== reader.uint32())
    throw new SshWireError('its private part fails its integrity check');
  if (reader.name() !== publicKey.algorithm)
    throw new SshWireError('its private part holds a key of another type than its header');
}
