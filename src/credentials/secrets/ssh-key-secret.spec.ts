import { createPublicKey, generateKeyPairSync, KeyObject } from 'node:crypto';
import { problemsOf } from './__fixtures__/problems-of';
import {
  SSH_ECDSA_P256,
  SSH_ECDSA_P521,
  SSH_ED25519,
  SSH_ED25519_ENCRYPTED,
  SSH_FIXTURE_PASSPHRASE,
  SSH_RSA_2048,
  SshKeyFixture,
} from './__fixtures__/ssh-key-fixtures';
import { EC_CERTIFICATE } from './__fixtures__/certificate-fixtures';
import { parseSshKeySecret } from './ssh-key-secret';
import { formatSshPublicKeyLine } from './ssh-wire';

const PEM_FIXTURES: [string, SshKeyFixture, string][] = [
  ['an ed25519 PKCS#8', SSH_ED25519, 'ed25519'],
  ['an ecdsa P-256 SEC1', SSH_ECDSA_P256, 'ecdsa'],
  ['an ecdsa P-521 SEC1', SSH_ECDSA_P521, 'ecdsa'],
  ['an rsa PKCS#1', SSH_RSA_2048, 'rsa'],
];

const OPENSSH_FIXTURES: [string, SshKeyFixture, string][] = [
  ['ed25519', SSH_ED25519, 'ed25519'],
  ['ecdsa', SSH_ECDSA_P256, 'ecdsa'],
  ['rsa', SSH_RSA_2048, 'rsa'],
];

function pkcs8(key: KeyObject, passphrase?: string): string {
  return key.export({
    type: 'pkcs8',
    format: 'pem',
    ...(passphrase && { cipher: 'aes-256-cbc', passphrase }),
  }) as string;
}

const ed25519 = generateKeyPairSync('ed25519');
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });

describe('parseSshKeySecret', () => {
  describe('PEM private keys', () => {
    it.each(PEM_FIXTURES)(
      'should accept %s key and derive what ssh-keygen says of it',
      (_label, fixture, keyType) => {
        const input = { privateKey: fixture.pem, publicKey: fixture.publicLine };
        expect(parseSshKeySecret(input)).toEqual({
          value: input,
          derived: {
            keyType,
            bits: fixture.bits,
            publicKeyFingerprint: fixture.fingerprint,
            encrypted: false,
          },
        });
      },
    );

    it.each([
      ['ed25519', ed25519.privateKey, 256],
      ['rsa 2048', rsa.privateKey, 2048],
      ['ecdsa P-256', p256.privateKey, 256],
    ])('should accept a %s key made by node with its OpenSSH public line', (_label, key, bits) => {
      const input = { privateKey: pkcs8(key), publicKey: formatSshPublicKeyLine(key, 'me@host') };
      expect(parseSshKeySecret(input).derived).toMatchObject({ bits, encrypted: false });
    });

    it('should accept its public key as PEM', () => {
      const publicKey = createPublicKey(p256.privateKey).export({ type: 'spki', format: 'pem' });
      const input = { privateKey: pkcs8(p256.privateKey), publicKey };
      expect(parseSshKeySecret(input).value).toEqual(input);
    });

    it('should accept an encrypted key with its passphrase', () => {
      const input = {
        privateKey: pkcs8(ed25519.privateKey, 'open sesame'),
        passphrase: 'open sesame',
      };
      expect(parseSshKeySecret(input)).toEqual({
        value: input,
        derived: expect.objectContaining({ keyType: 'ed25519', encrypted: true }),
      });
    });

    it('should accept the EC PARAMETERS block OpenSSL writes before a SEC1 key', () => {
      const parameters =
        '-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n';
      const input = { privateKey: parameters + SSH_ECDSA_P256.pem };
      expect(parseSshKeySecret(input).derived).toMatchObject({
        publicKeyFingerprint: SSH_ECDSA_P256.fingerprint,
      });
    });

    it('should keep the key exactly as given, line ends and surrounding whitespace included', () => {
      const privateKey = `\r\n${pkcs8(ed25519.privateKey).replace(/\n/g, '\r\n')}  \r\n`;
      expect(parseSshKeySecret({ privateKey }).value).toEqual({ privateKey });
    });
  });

  describe('OpenSSH private keys', () => {
    it.each(OPENSSH_FIXTURES)(
      'should accept an unencrypted %s key and derive its facts from its header',
      (_label, fixture, keyType) => {
        const input = { privateKey: fixture.openSsh, publicKey: fixture.publicLine };
        expect(parseSshKeySecret(input)).toEqual({
          value: input,
          derived: {
            keyType,
            bits: fixture.bits,
            publicKeyFingerprint: fixture.fingerprint,
            encrypted: false,
          },
        });
      },
    );

    it('should accept an encrypted key with a passphrase, which it cannot check', () => {
      const input = {
        privateKey: SSH_ED25519_ENCRYPTED.openSsh,
        passphrase: SSH_FIXTURE_PASSPHRASE,
        publicKey: SSH_ED25519_ENCRYPTED.publicLine,
      };
      expect(parseSshKeySecret(input).derived).toEqual({
        keyType: 'ed25519',
        bits: 256,
        publicKeyFingerprint: SSH_ED25519_ENCRYPTED.fingerprint,
        encrypted: true,
      });
    });

    it('should refuse an encrypted key without its passphrase', () => {
      expect(
        problemsOf(() => parseSshKeySecret({ privateKey: SSH_ED25519_ENCRYPTED.openSsh })),
      ).toEqual([
        { field: 'secret.privateKey', errors: ['privateKey is encrypted: give its passphrase'] },
      ]);
    });

    it('should refuse a public key that is not the one in its header', () => {
      const input = {
        privateKey: SSH_ED25519.openSsh,
        publicKey: SSH_ED25519_ENCRYPTED.publicLine,
      };
      expect(problemsOf(() => parseSshKeySecret(input))).toEqual([
        { field: 'secret.publicKey', errors: ['publicKey does not match privateKey'] },
      ]);
    });

    it('should refuse a key whose content is not openssh-key-v1', () => {
      const privateKey =
        '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAAAAAA\n-----END OPENSSH PRIVATE KEY-----';
      expect(problemsOf(() => parseSshKeySecret({ privateKey }))).toEqual([
        {
          field: 'secret.privateKey',
          errors: [
            'privateKey is not a well-formed OpenSSH private key: it does not start with the openssh-key-v1 magic',
          ],
        },
      ]);
    });
  });

  describe('refusals', () => {
    it('should refuse a key that does not match the public key given', () => {
      const input = {
        privateKey: pkcs8(p256.privateKey),
        publicKey: formatSshPublicKeyLine(rsa.publicKey),
      };
      expect(problemsOf(() => parseSshKeySecret(input))).toEqual([
        { field: 'secret.publicKey', errors: ['publicKey does not match privateKey'] },
      ]);
    });

    it('should refuse a wrong passphrase', () => {
      const input = { privateKey: pkcs8(ed25519.privateKey, 'right'), passphrase: 'wrong' };
      expect(problemsOf(() => parseSshKeySecret(input))).toEqual([
        {
          field: 'secret.privateKey',
          errors: ['privateKey could not be decrypted with this passphrase (or it is malformed)'],
        },
      ]);
    });

    it('should refuse an encrypted PEM key without its passphrase', () => {
      const input = { privateKey: pkcs8(ed25519.privateKey, 'right') };
      expect(problemsOf(() => parseSshKeySecret(input))).toEqual([
        { field: 'secret.privateKey', errors: ['privateKey is encrypted: give its passphrase'] },
      ]);
    });

    it('should refuse a passphrase for a key that is not encrypted', () => {
      const input = { privateKey: pkcs8(ed25519.privateKey), passphrase: 'pointless' };
      expect(problemsOf(() => parseSshKeySecret(input))).toEqual([
        {
          field: 'secret.passphrase',
          errors: ['passphrase is given but privateKey is not encrypted'],
        },
      ]);
    });

    it('should refuse text that is not a key', () => {
      expect(problemsOf(() => parseSshKeySecret({ privateKey: 'not a key' }))).toEqual([
        {
          field: 'secret.privateKey',
          errors: [
            'privateKey is not a PEM or OpenSSH private key: it does not start with a PEM BEGIN line',
          ],
        },
      ]);
    });

    it('should refuse a PEM block that is not a private key', () => {
      expect(problemsOf(() => parseSshKeySecret({ privateKey: EC_CERTIFICATE }))).toEqual([
        {
          field: 'secret.privateKey',
          errors: [
            'privateKey must hold exactly one private key block (such as PRIVATE KEY or OPENSSH PRIVATE KEY)',
          ],
        },
      ]);
    });

    it('should refuse a private key block whose content is not a key', () => {
      const privateKey = '-----BEGIN PRIVATE KEY-----\nAAAAAAAA\n-----END PRIVATE KEY-----';
      expect(problemsOf(() => parseSshKeySecret({ privateKey }))).toEqual([
        { field: 'secret.privateKey', errors: ['privateKey is not a valid private key'] },
      ]);
    });

    it.each([
      ['x25519', generateKeyPairSync('x25519').privateKey],
      ['secp256k1', generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey],
      ['dsa', generateKeyPairSync('dsa', { modulusLength: 1024, divisorLength: 160 }).privateKey],
    ])('should refuse a %s key, which is not an SSH key type', (_label, key) => {
      expect(problemsOf(() => parseSshKeySecret({ privateKey: pkcs8(key) }))).toEqual([
        {
          field: 'secret.privateKey',
          errors: [
            'privateKey is not an SSH key type: it must be ed25519, rsa or ecdsa (P-256, P-384, P-521)',
          ],
        },
      ]);
    });

    it('should refuse a private key given as the public key', () => {
      const input = { privateKey: pkcs8(p256.privateKey), publicKey: pkcs8(p256.privateKey) };
      expect(problemsOf(() => parseSshKeySecret(input))).toEqual([
        {
          field: 'secret.publicKey',
          errors: ['publicKey must hold exactly one PUBLIC KEY or RSA PUBLIC KEY block'],
        },
      ]);
    });

    it('should refuse a public key line it cannot read', () => {
      const input = { privateKey: pkcs8(p256.privateKey), publicKey: 'ssh-ed25519 AAAA' };
      expect(problemsOf(() => parseSshKeySecret(input))).toEqual([
        {
          field: 'secret.publicKey',
          errors: ['publicKey is not an OpenSSH public key line: it is truncated'],
        },
      ]);
    });

    it('should refuse a private key over 16 KiB', () => {
      const privateKey = pkcs8(ed25519.privateKey) + ' '.repeat(16 * 1024);
      expect(problemsOf(() => parseSshKeySecret({ privateKey }))).toEqual([
        { field: 'secret.privateKey', errors: ['privateKey must be at most 16 KiB'] },
      ]);
    });

    it('should refuse a missing private key and unknown fields together', () => {
      expect(problemsOf(() => parseSshKeySecret({ publicKey: 'x', comment: 'y' }))).toEqual([
        {
          field: 'secret',
          errors: [
            'the secret has 1 unknown field; the allowed fields are privateKey, passphrase, publicKey',
          ],
        },
        { field: 'secret.privateKey', errors: ['privateKey is required'] },
      ]);
    });
  });
});
