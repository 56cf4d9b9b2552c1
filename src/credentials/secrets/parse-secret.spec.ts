import { generateKeyPairSync } from 'node:crypto';
import { EC_CERTIFICATE, EC_PRIVATE_KEY } from './__fixtures__/certificate-fixtures';
import { problemsOf } from './__fixtures__/problems-of';
import { SSH_ED25519 } from './__fixtures__/ssh-key-fixtures';
import { CREDENTIAL_TYPES, CredentialType } from './credential-type';
import { parseSecret } from './parse-secret';
import { formatSshPublicKeyLine } from './ssh-wire';

const token = [{ alg: 'ES256' }, { exp: 1_900_000_000, sub: 'svc' }]
  .map((part) => Buffer.from(JSON.stringify(part)).toString('base64url'))
  .concat('c2lnbmF0dXJl')
  .join('.');
const ed25519 = generateKeyPairSync('ed25519').privateKey;

/** One valid secret of every type, and the facts derived from it. */
const VALID: Record<CredentialType, { input: Record<string, unknown>; derived: unknown }> = {
  password: { input: { password: 'hunter2 ' }, derived: {} },
  api_key: { input: { apiKey: 'ck_live_0123' }, derived: {} },
  oauth: {
    input: {
      clientId: 'id',
      clientSecret: 'secret',
      tokenUrl: 'https://a.example/t',
      scopes: ['x'],
    },
    derived: {},
  },
  ssh_key: {
    input: {
      privateKey: ed25519.export({ type: 'pkcs8', format: 'pem' }),
      publicKey: formatSshPublicKeyLine(ed25519, 'me@host'),
    },
    derived: {
      keyType: 'ed25519',
      bits: 256,
      publicKeyFingerprint: expect.stringMatching(/^SHA256:[A-Za-z0-9+/]{43}$/),
      encrypted: false,
    },
  },
  shared_secret: { input: { secret: 'whsec_abc' }, derived: {} },
  kv: { input: { username: 'app', password: 'pa55' }, derived: {} },
  jwt: {
    input: { token },
    derived: { alg: 'ES256', expiresAt: new Date(1_900_000_000_000), subject: 'svc' },
  },
  connection_string: {
    input: { connectionString: 'mysql://u:pw@db.example.test:3306/app' },
    derived: { scheme: 'mysql', host: 'db.example.test', port: 3306 },
  },
  certificate: {
    input: { certificate: EC_CERTIFICATE, privateKey: EC_PRIVATE_KEY },
    derived: expect.objectContaining({ subject: 'CN=ec.example.test', keyType: 'ec' }),
  },
};

describe('parseSecret', () => {
  it('should know every credential type', () => {
    expect(Object.keys(VALID).sort()).toEqual([...CREDENTIAL_TYPES].sort());
  });

  it.each(CREDENTIAL_TYPES)('should round-trip a valid %s secret', (type) => {
    const { input, derived } = VALID[type];
    const sut = parseSecret(type, input);
    expect(sut.value).toEqual(input);
    expect(sut.derived).toEqual(derived);
  });

  it('should return an expiry only for the types whose secret holds one', () => {
    const withExpiry = CREDENTIAL_TYPES.filter(
      (type) => parseSecret(type, VALID[type].input).expiresAt,
    );
    expect(withExpiry).toEqual(['jwt', 'certificate']);
  });

  it('should read an OpenSSH private key as an ssh_key', () => {
    expect(parseSecret('ssh_key', { privateKey: SSH_ED25519.openSsh }).derived).toMatchObject({
      publicKeyFingerprint: SSH_ED25519.fingerprint,
    });
  });

  it.each(
    CREDENTIAL_TYPES.flatMap((type) =>
      [null, [], 'text', 7].map((input) => [type, input] as const),
    ),
  )('should refuse a %s secret that is %j, on the field secret', (type, input) => {
    expect(problemsOf(() => parseSecret(type, input))).toEqual([
      { field: 'secret', errors: ['the secret must be a JSON object'] },
    ]);
  });

  it('should refuse a type it does not know, for callers outside TypeScript', () => {
    expect(problemsOf(() => parseSecret('totp' as CredentialType, {}))).toEqual([
      { field: 'type', errors: [`type must be one of ${CREDENTIAL_TYPES.join(', ')}`] },
    ]);
  });
});
