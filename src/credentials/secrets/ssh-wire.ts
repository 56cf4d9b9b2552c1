import { createHash, createPublicKey, JsonWebKey, KeyObject } from 'node:crypto';

/**
 * The SSH wire format of public keys (RFC 4253 §6.6, RFC 5656, RFC 8709) for ssh-ed25519,
 * ssh-rsa and ecdsa-sha2-nistp256/384/521, plus the FIDO (`sk-`) keys OpenSSH adds, which can be
 * read and compared but not turned into a node KeyObject. Errors are SshWireError, whose messages
 * are fixed text: they never quote key material.
 */
export class SshWireError extends Error {}

export type SshKeyType = 'ed25519' | 'rsa' | 'ecdsa' | 'ed25519-sk' | 'ecdsa-sk';

export interface SshPublicKey {
  /** The SSH algorithm name, such as `ssh-ed25519` or `ecdsa-sha2-nistp256`. */
  algorithm: string;
  keyType: SshKeyType;
  bits: number;
  /** The canonical wire encoding: two keys are the same key when their blobs are equal. */
  blob: Buffer;
}

interface Curve {
  ssh: string;
  jwk: string;
  openssl: string;
  bits: number;
  coordinateBytes: number;
}

const CURVES: readonly Curve[] = [
  { ssh: 'nistp256', jwk: 'P-256', openssl: 'prime256v1', bits: 256, coordinateBytes: 32 },
  { ssh: 'nistp384', jwk: 'P-384', openssl: 'secp384r1', bits: 384, coordinateBytes: 48 },
  { ssh: 'nistp521', jwk: 'P-521', openssl: 'secp521r1', bits: 521, coordinateBytes: 66 },
];

const ED25519 = 'ssh-ed25519';
const RSA = 'ssh-rsa';
const ECDSA_PREFIX = 'ecdsa-sha2-';
const SK_ED25519 = 'sk-ssh-ed25519@openssh.com';
const SK_ECDSA = 'sk-ecdsa-sha2-nistp256@openssh.com';
const ED25519_KEY_BYTES = 32;

export const SSH_PUBLIC_KEY_ALGORITHMS: readonly string[] = [
  ED25519,
  RSA,
  ...CURVES.map((curve) => ECDSA_PREFIX + curve.ssh),
  SK_ED25519,
  SK_ECDSA,
];

/** Reads SSH wire data; every read past the end throws. */
export class SshWireReader {
  private offset = 0;

  constructor(private readonly buffer: Buffer) {}

  get remaining(): number {
    return this.buffer.length - this.offset;
  }

  bytes(length: number): Buffer {
    if (length > this.remaining) throw new SshWireError('it is truncated');
    const bytes = this.buffer.subarray(this.offset, this.offset + length);
    this.offset += length;
    return bytes;
  }

  uint32(): number {
    return this.bytes(4).readUInt32BE(0);
  }

  string(): Buffer {
    return this.bytes(this.uint32());
  }

  /** A string that must be printable ASCII (algorithm, cipher and curve names). */
  name(): string {
    const bytes = this.string();
    if (!bytes.every((byte) => byte > 0x20 && byte < 0x7f))
      throw new SshWireError('it holds a malformed name');
    return bytes.toString('latin1');
  }

  /** A non-negative mpint, as its magnitude without leading zero bytes. */
  unsignedMpint(): Buffer {
    const bytes = this.string();
    if (bytes.length > 0 && (bytes[0] & 0x80) !== 0)
      throw new SshWireError('it holds a negative integer');
    return stripLeadingZeros(bytes);
  }

  end(): void {
    if (this.remaining !== 0) throw new SshWireError('it has trailing data');
  }
}

export class SshWireWriter {
  private readonly parts: Buffer[] = [];

  uint32(value: number): this {
    const bytes = Buffer.alloc(4);
    bytes.writeUInt32BE(value, 0);
    this.parts.push(bytes);
    return this;
  }

  string(value: Buffer | string): this {
    const bytes = typeof value === 'string' ? Buffer.from(value, 'latin1') : value;
    this.uint32(bytes.length);
    this.parts.push(bytes);
    return this;
  }

  /** A non-negative integer from its big-endian magnitude: minimal, with a 0 byte before a high bit. */
  unsignedMpint(magnitude: Buffer): this {
    const bytes = stripLeadingZeros(magnitude);
    return this.string(
      bytes.length > 0 && (bytes[0] & 0x80) !== 0 ? Buffer.concat([Buffer.of(0), bytes]) : bytes,
    );
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** The SSH public key of a node key (public or private); throws for key types SSH does not use. */
export function sshPublicKeyOf(key: KeyObject): SshPublicKey {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  const type = publicKey.asymmetricKeyType;
  if (type !== 'ed25519' && type !== 'rsa' && type !== 'ec')
    throw new SshWireError('SSH keys are ed25519, rsa or ecdsa keys');
  const jwk = publicKey.export({ format: 'jwk' });
  const writer = new SshWireWriter();
  switch (type) {
    case 'ed25519':
      writer.string(ED25519).string(jwkBytes(jwk.x));
      return { algorithm: ED25519, keyType: 'ed25519', bits: 256, blob: writer.toBuffer() };
    case 'rsa': {
      const modulus = stripLeadingZeros(jwkBytes(jwk.n));
      writer.string(RSA).unsignedMpint(jwkBytes(jwk.e)).unsignedMpint(modulus);
      return { algorithm: RSA, keyType: 'rsa', bits: bitLength(modulus), blob: writer.toBuffer() };
    }
    case 'ec': {
      const curve = CURVES.find((c) => c.jwk === jwk.crv);
      if (!curve) throw new SshWireError('SSH supports only the P-256, P-384 and P-521 curves');
      const algorithm = ECDSA_PREFIX + curve.ssh;
      writer.string(algorithm).string(curve.ssh).string(ecPoint(jwk, curve));
      return { algorithm, keyType: 'ecdsa', bits: curve.bits, blob: writer.toBuffer() };
    }
  }
}

/**
 * Reads a wire-format public key, checking it as strictly as OpenSSH does (exact lengths, no
 * trailing data, a point on its curve). The result's blob is canonical.
 */
export function readSshPublicKey(blob: Buffer): SshPublicKey {
  const reader = new SshWireReader(blob);
  const algorithm = reader.name();
  if (algorithm === ED25519 || algorithm === SK_ED25519) {
    const x = reader.string();
    if (x.length !== ED25519_KEY_BYTES) throw new SshWireError('its ed25519 key is not 32 bytes');
    if (algorithm === SK_ED25519) return readSkKey(reader, blob, algorithm, 'ed25519-sk', 256);
    reader.end();
    return sshPublicKeyOf(importJwk({ kty: 'OKP', crv: 'Ed25519', x: x.toString('base64url') }));
  }
  if (algorithm === RSA) {
    const e = reader.unsignedMpint();
    const n = reader.unsignedMpint();
    reader.end();
    if (e.length === 0 || n.length === 0) throw new SshWireError('its RSA key is malformed');
    return sshPublicKeyOf(
      importJwk({ kty: 'RSA', n: n.toString('base64url'), e: e.toString('base64url') }),
    );
  }
  const curve =
    algorithm === SK_ECDSA ? CURVES[0] : CURVES.find((c) => algorithm === ECDSA_PREFIX + c.ssh);
  if (!curve) throw new SshWireError('its key type is not one Custos supports');
  if (reader.name() !== curve.ssh) throw new SshWireError('its curve does not match its key type');
  const point = reader.string();
  const size = curve.coordinateBytes;
  if (point.length !== 1 + 2 * size || point[0] !== 0x04)
    throw new SshWireError('its EC point is not an uncompressed point of its curve');
  const key = importJwk({
    kty: 'EC',
    crv: curve.jwk,
    x: point.subarray(1, 1 + size).toString('base64url'),
    y: point.subarray(1 + size).toString('base64url'),
  });
  if (algorithm === SK_ECDSA) return readSkKey(reader, blob, algorithm, 'ecdsa-sk', curve.bits);
  reader.end();
  return sshPublicKeyOf(key);
}

/** `SHA256:<base64, no padding>` of the wire-format key, as `ssh-keygen -l` prints it. */
export function sshFingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** The `authorized_keys` line of a key: `<algorithm> <base64 blob>[ <comment>]`. */
export function formatSshPublicKeyLine(key: KeyObject, comment?: string): string {
  const { algorithm, blob } = sshPublicKeyOf(key);
  return [algorithm, blob.toString('base64'), ...(comment ? [comment] : [])].join(' ');
}

/** Reads one `<algorithm> <base64 blob> [comment]` line (no `authorized_keys` options). */
export function parseSshPublicKeyLine(line: string): SshPublicKey {
  const match = /^(\S+)[ \t]+([A-Za-z0-9+/]+={0,2})(?:[ \t]+[^\r\n]*)?$/.exec(line.trim());
  if (!match || match[2].length % 4 !== 0)
    throw new SshWireError('it is not `<key type> <base64 key> [comment]` on one line');
  if (!SSH_PUBLIC_KEY_ALGORITHMS.includes(match[1]))
    throw new SshWireError('its key type is not one Custos supports');
  const key = readSshPublicKey(Buffer.from(match[2], 'base64'));
  if (key.algorithm !== match[1])
    throw new SshWireError('its key type does not match the key it holds');
  return key;
}

/** A FIDO key ends with its application string (`ssh:` by default); its blob is kept as read. */
function readSkKey(
  reader: SshWireReader,
  blob: Buffer,
  algorithm: string,
  keyType: SshKeyType,
  bits: number,
): SshPublicKey {
  reader.name();
  reader.end();
  return { algorithm, keyType, bits, blob: Buffer.from(blob) };
}

function importJwk(jwk: JsonWebKey): KeyObject {
  try {
    return createPublicKey({ key: jwk, format: 'jwk' });
  } catch {
    throw new SshWireError('it does not hold a valid public key');
  }
}

function jwkBytes(value: string | undefined): Buffer {
  if (value === undefined) throw new SshWireError('the key lacks a component');
  return Buffer.from(value, 'base64url');
}

/** 0x04 || x || y, each coordinate padded to the curve's size. */
function ecPoint(jwk: JsonWebKey, curve: Curve): Buffer {
  const pad = (value: Buffer) => {
    const bytes = stripLeadingZeros(value);
    if (bytes.length > curve.coordinateBytes) throw new SshWireError('its EC point is too long');
    return Buffer.concat([Buffer.alloc(curve.coordinateBytes - bytes.length), bytes]);
  };
  return Buffer.concat([Buffer.of(0x04), pad(jwkBytes(jwk.x)), pad(jwkBytes(jwk.y))]);
}

function stripLeadingZeros(bytes: Buffer): Buffer {
  let start = 0;
  while (start < bytes.length && bytes[start] === 0) start++;
  return bytes.subarray(start);
}

function bitLength(magnitude: Buffer): number {
  return magnitude.length === 0 ? 0 : (magnitude.length - 1) * 8 + magnitude[0].toString(2).length;
}
