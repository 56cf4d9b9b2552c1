import { generateKeyPairSync } from 'node:crypto';
import { DomainError } from '../../common/errors/domain-error';
import { RequestValidationError } from '../../common/validation/request-validation.error';
import { RSA_CERTIFICATE } from './__fixtures__/certificate-fixtures';
import { SSH_ED25519 } from './__fixtures__/ssh-key-fixtures';
import { CredentialType } from './credential-type';
import { parseSecret } from './parse-secret';
import { SecretShapeError } from './secret-shape.error';

/** Base64- and URL-safe, so that it survives into every kind of bad input below. */
const CANARY = 'Cn4ryZq7Xw9Lp2Vb';
const b64 = (text: string) => Buffer.from(text).toString('base64');
const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const pem = (label: string, body: string) =>
  `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
const encryptedKey = generateKeyPairSync('ed25519').privateKey.export({
  type: 'pkcs8',
  format: 'pem',
  cipher: 'aes-256-cbc',
  passphrase: 'right',
}) as string;
const LONG = CANARY.repeat(300);

/** Inputs that each fail, with the canary in a secret value (or where a value should be). */
const BAD_INPUTS: [CredentialType, unknown][] = [
  ['password', CANARY],
  ['password', [CANARY]],
  ['password', { password: CANARY.repeat(1000) }],
  ['password', { password: CANARY, [CANARY]: CANARY }],
  ['password', { password: { nested: CANARY } }],
  ['password', { password: `${CANARY}\uD800` }],
  ['api_key', { apiKey: [CANARY] }],
  ['shared_secret', { secret: CANARY.repeat(5000) }],
  ['oauth', { clientId: LONG, clientSecret: CANARY.repeat(1000) }],
  ['oauth', { clientId: 'id', clientSecret: 's', tokenUrl: `http://example.com/${CANARY}` }],
  ['oauth', { clientId: 'id', clientSecret: 's', tokenUrl: `https://u:${CANARY}@example.com/` }],
  ['oauth', { clientId: 'id', clientSecret: 's', tokenUrl: `${CANARY} not a url` }],
  ['oauth', { clientId: 'id', clientSecret: 's', scopes: [`${CANARY} x`, '', CANARY.repeat(20)] }],
  ['ssh_key', { privateKey: CANARY }],
  ['ssh_key', { privateKey: pem('PRIVATE KEY', b64(CANARY)) }],
  ['ssh_key', { privateKey: pem('OPENSSH PRIVATE KEY', b64(`openssh-key-v1\0${CANARY}`)) }],
  ['ssh_key', { privateKey: pem(`${CANARY.toUpperCase()} KEY`, b64(CANARY)) }],
  ['ssh_key', { privateKey: encryptedKey, passphrase: CANARY }],
  ['ssh_key', { privateKey: SSH_ED25519.pem, passphrase: CANARY }],
  ['ssh_key', { privateKey: SSH_ED25519.pem, publicKey: `ssh-ed25519 ${b64(CANARY)} ${CANARY}` }],
  ['ssh_key', { privateKey: SSH_ED25519.pem, publicKey: `${CANARY} AAAA` }],
  ['jwt', { token: `${CANARY}.${CANARY}.${CANARY}` }],
  ['jwt', { token: `${b64url({ alg: CANARY + ' x' })}.${b64url({ sub: CANARY })}.${CANARY}` }],
  [
    'jwt',
    {
      token: `${b64url({ alg: 'HS256' })}.${Buffer.from(`{${CANARY}`).toString('base64url')}.c2ln`,
    },
  ],
  ['jwt', { token: `${CANARY} ${CANARY}` }],
  ['connection_string', { connectionString: `postgres://u:${CANARY}@h/${'x'.repeat(5000)}` }],
  ['certificate', { certificate: CANARY }],
  ['certificate', { certificate: pem('CERTIFICATE', b64(CANARY)) }],
  ['certificate', { certificate: RSA_CERTIFICATE, privateKey: pem('PRIVATE KEY', b64(CANARY)) }],
  ['certificate', { certificate: RSA_CERTIFICATE, chain: `${RSA_CERTIFICATE}${CANARY}` }],
  ['certificate', { certificate: RSA_CERTIFICATE, chain: pem('CERTIFICATE', b64(CANARY)) }],
];

function thrownBy(type: CredentialType, input: unknown): SecretShapeError {
  try {
    parseSecret(type, input);
  } catch (error) {
    if (error instanceof SecretShapeError) return error;
    throw error;
  }
  throw new Error('expected a SecretShapeError');
}

describe('SecretShapeError', () => {
  it('should be an invalid request naming each field and its problems', () => {
    const sut = new SecretShapeError([
      { field: 'secret.clientId', errors: ['clientId is required'] },
      { field: 'secret.scopes.2', errors: ['each scope must not be empty'] },
    ]);
    expect(sut).toBeInstanceOf(RequestValidationError);
    expect(sut).toBeInstanceOf(DomainError);
    expect(sut.kind).toBe('invalid');
    expect(sut.name).toBe('SecretShapeError');
    expect(sut.fields).toBe(sut.problems);
    expect(sut.message).toBe(
      'Validation failed: secret.clientId (clientId is required), secret.scopes.2 (each scope must not be empty)',
    );
  });

  it('should name the whole secret with an empty field', () => {
    expect(SecretShapeError.single('', 'too big').problems).toEqual([
      { field: 'secret', errors: ['too big'] },
    ]);
  });

  describe('never revealing a secret', () => {
    it.each(BAD_INPUTS.map(([type, input], i) => [i + 1, type, input] as const))(
      'should keep the canary out of the error of bad input %i (%s)',
      (_n, type, input) => {
        const sut = thrownBy(type, input);
        expect(sut.problems.length).toBeGreaterThan(0);
        const everything = [
          sut.message,
          sut.stack ?? '',
          String(sut),
          JSON.stringify(sut),
          JSON.stringify(sut.problems),
          JSON.stringify(sut.cause ?? null),
        ].join('\n');
        expect(everything).not.toContain(CANARY);
        expect(everything.toLowerCase()).not.toContain(CANARY.toLowerCase());
      },
    );
  });
});
