import { createPrivateKey, generateKeyPairSync, KeyObject } from 'node:crypto';
import {
  SSH_ECDSA_P256,
  SSH_ECDSA_P521,
  SSH_ED25519,
  SSH_RSA_2048,
  SshKeyFixture,
} from './__fixtures__/ssh-key-fixtures';
import {
  formatSshPublicKeyLine,
  parseSshPublicKeyLine,
  readSshPublicKey,
  sshFingerprint,
  sshPublicKeyOf,
  SshWireError,
  SshWireReader,
  SshWireWriter,
} from './ssh-wire';

const FIXTURES: [string, SshKeyFixture][] = [
  ['ed25519', SSH_ED25519],
  ['ecdsa P-256', SSH_ECDSA_P256],
  ['ecdsa P-521', SSH_ECDSA_P521],
  ['rsa 2048', SSH_RSA_2048],
];

function blobOfLine(line: string): Buffer {
  return Buffer.from(line.split(' ')[1], 'base64');
}

function lineOf(blob: Buffer, algorithm: string): string {
  return `${algorithm} ${blob.toString('base64')}`;
}

describe('SSH wire format', () => {
  describe.each(FIXTURES)('against ssh-keygen, for its %s key', (_label, fixture) => {
    const key = createPrivateKey(fixture.pem ?? '');

    it('should encode the public key as the .pub line ssh-keygen wrote', () => {
      expect(formatSshPublicKeyLine(key, 'fixture@custos')).toBe(fixture.publicLine);
    });

    it('should compute the fingerprint ssh-keygen prints', () => {
      expect(sshFingerprint(sshPublicKeyOf(key).blob)).toBe(fixture.fingerprint);
    });

    it('should read the .pub line back to the same key and size', () => {
      const sut = parseSshPublicKeyLine(fixture.publicLine);
      expect(sut.blob.equals(sshPublicKeyOf(key).blob)).toBe(true);
      expect(sut.bits).toBe(fixture.bits);
    });
  });

  describe('keys made by node', () => {
    const keys: [string, KeyObject, string, number][] = [
      ['ed25519', generateKeyPairSync('ed25519').publicKey, 'ssh-ed25519', 256],
      ['rsa 2048', generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey, 'ssh-rsa', 2048],
      [
        'P-256',
        generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey,
        'ecdsa-sha2-nistp256',
        256,
      ],
      [
        'P-384',
        generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey,
        'ecdsa-sha2-nistp384',
        384,
      ],
      [
        'P-521',
        generateKeyPairSync('ec', { namedCurve: 'P-521' }).publicKey,
        'ecdsa-sha2-nistp521',
        521,
      ],
    ];

    it.each(keys)('should read back a %s key it wrote', (_label, key, algorithm, bits) => {
      const written = sshPublicKeyOf(key);
      const sut = readSshPublicKey(written.blob);
      expect(sut).toEqual({ ...written, algorithm, bits });
      expect(sut.blob.equals(written.blob)).toBe(true);
    });

    it.each([
      ['x25519', generateKeyPairSync('x25519').publicKey],
      ['secp256k1', generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey],
    ])('should refuse a %s key, which SSH does not use', (_label, key) => {
      expect(() => sshPublicKeyOf(key)).toThrow(SshWireError);
    });
  });

  describe('mpint', () => {
    const written = (magnitude: number[]) => [
      ...new SshWireWriter().unsignedMpint(Buffer.from(magnitude)).toBuffer(),
    ];

    it('should put a zero byte before an integer whose high bit is set', () => {
      expect(written([0x80, 0x01])).toEqual([0, 0, 0, 3, 0x00, 0x80, 0x01]);
    });

    it('should drop leading zero bytes, and write zero as an empty string', () => {
      expect(written([0x00, 0x00, 0x7f])).toEqual([0, 0, 0, 1, 0x7f]);
      expect(written([0x00])).toEqual([0, 0, 0, 0]);
    });

    it('should refuse a negative integer', () => {
      const reader = new SshWireReader(Buffer.from([0, 0, 0, 1, 0x80]));
      expect(() => reader.unsignedMpint()).toThrow('it holds a negative integer');
    });
  });

  describe('readSshPublicKey', () => {
    const ed25519 = blobOfLine(SSH_ED25519.publicLine);
    const p256 = blobOfLine(SSH_ECDSA_P256.publicLine);

    it.each([
      ['a truncated key', ed25519.subarray(0, ed25519.length - 1), 'it is truncated'],
      ['trailing data', Buffer.concat([ed25519, Buffer.of(0)]), 'it has trailing data'],
      [
        'an ed25519 key of 31 bytes',
        new SshWireWriter().string('ssh-ed25519').string(Buffer.alloc(31)).toBuffer(),
        'its ed25519 key is not 32 bytes',
      ],
      [
        'an ecdsa key whose curve does not match its type',
        Buffer.concat([
          new SshWireWriter().string('ecdsa-sha2-nistp384').toBuffer(),
          p256.subarray(4 + 'ecdsa-sha2-nistp256'.length),
        ]),
        'its curve does not match its key type',
      ],
      [
        'an ecdsa point that is not on its curve',
        new SshWireWriter()
          .string('ecdsa-sha2-nistp256')
          .string('nistp256')
          .string(Buffer.concat([Buffer.of(4), Buffer.alloc(64, 1)]))
          .toBuffer(),
        'it does not hold a valid public key',
      ],
      [
        'a compressed ecdsa point',
        new SshWireWriter()
          .string('ecdsa-sha2-nistp256')
          .string('nistp256')
          .string(Buffer.concat([Buffer.of(2), Buffer.alloc(32, 1)]))
          .toBuffer(),
        'its EC point is not an uncompressed point of its curve',
      ],
      [
        'a DSA key',
        new SshWireWriter().string('ssh-dss').string(Buffer.alloc(8)).toBuffer(),
        'its key type is not one Custos supports',
      ],
    ])('should refuse %s', (_label, blob, message) => {
      expect(() => readSshPublicKey(blob)).toThrow(new SshWireError(message));
    });

    it('should read FIDO security keys, keeping their blob', () => {
      const ed = new SshWireWriter()
        .string('sk-ssh-ed25519@openssh.com')
        .string(ed25519.subarray(ed25519.length - 32))
        .string('ssh:')
        .toBuffer();
      const point = p256.subarray(p256.length - 65);
      const ec = new SshWireWriter()
        .string('sk-ecdsa-sha2-nistp256@openssh.com')
        .string('nistp256')
        .string(point)
        .string('ssh:')
        .toBuffer();
      expect(readSshPublicKey(ed)).toEqual({
        algorithm: 'sk-ssh-ed25519@openssh.com',
        keyType: 'ed25519-sk',
        bits: 256,
        blob: ed,
      });
      expect(parseSshPublicKeyLine(lineOf(ec, 'sk-ecdsa-sha2-nistp256@openssh.com'))).toEqual({
        algorithm: 'sk-ecdsa-sha2-nistp256@openssh.com',
        keyType: 'ecdsa-sk',
        bits: 256,
        blob: ec,
      });
    });
  });

  describe('parseSshPublicKeyLine', () => {
    it('should accept a line without a comment, or with surrounding whitespace', () => {
      const [algorithm, base64] = SSH_ED25519.publicLine.split(' ');
      expect(parseSshPublicKeyLine(`${algorithm} ${base64}`).algorithm).toBe('ssh-ed25519');
      expect(parseSshPublicKeyLine(`  ${SSH_ED25519.publicLine}\n`).algorithm).toBe('ssh-ed25519');
    });

    it.each([
      [
        'a line whose type does not match its key',
        SSH_ED25519.publicLine.replace('ssh-ed25519', 'ssh-rsa'),
        'its key type does not match the key it holds',
      ],
      [
        'an unknown key type',
        SSH_ED25519.publicLine.replace('ssh-ed25519', 'ssh-dss'),
        'its key type is not one Custos supports',
      ],
      [
        'base64 of a wrong length',
        'ssh-ed25519 AAAAC3',
        'it is not `<key type> <base64 key> [comment]` on one line',
      ],
      [
        'authorized_keys options',
        `no-pty ${SSH_ED25519.publicLine}`,
        'it is not `<key type> <base64 key> [comment]` on one line',
      ],
      [
        'two lines',
        `${SSH_ED25519.publicLine}\n${SSH_ED25519.publicLine}`,
        'it is not `<key type> <base64 key> [comment]` on one line',
      ],
    ])('should refuse %s', (_label, line, message) => {
      expect(() => parseSshPublicKeyLine(line)).toThrow(new SshWireError(message));
    });
  });
});
