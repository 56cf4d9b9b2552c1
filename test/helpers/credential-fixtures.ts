import type { CredentialType } from '../../src/credentials/secrets/credential-type';
import {
  INTERMEDIATE_CA_CERTIFICATE,
  LEAF_CERTIFICATE,
  LEAF_PRIVATE_KEY,
  ROOT_CA_CERTIFICATE,
} from '../../src/credentials/secrets/__fixtures__/certificate-fixtures';
import { SSH_ED25519 } from '../../src/credentials/secrets/__fixtures__/ssh-key-fixtures';
import type { TestApp } from './test-app';

export type Headers = Record<string, string>;

/** A secret of one credential type, and the strings of it that must never leave the reveal route. */
export interface TypeFixture {
  type: CredentialType;
  secret: Record<string, unknown>;
  canaries: string[];
}

/** The base64 lines of a PEM block's body: each one is a piece of the key no response may hold. */
export function pemBodyLines(pem: string): string[] {
  return pem
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length >= 40 && !line.startsWith('-----'));
}

/** A compact JWS (unsigned in truth: the server never verifies it) with the given claims. */
export function jwtOf(claims: Record<string, unknown>, signature: string): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'HS256', typ: 'JWT' })}.${part(claims)}.${Buffer.from(signature).toString('base64url')}`;
}

/** exp of JWT_FIXTURE: 2033-05-18T03:33:20Z. */
export const JWT_EXP_SECONDS = 2_000_000_000;
const JWT_TOKEN = jwtOf(
  { iss: 'custos-e2e', sub: 'deploy-bot', exp: JWT_EXP_SECONDS, scope: 'canary-jwt-claim-Tg5s' },
  'canary-jwt-signature-0123456789abcdef',
);

/** One secret of every credential type, each with canaries of its own. */
export const TYPE_FIXTURES: TypeFixture[] = [
  {
    type: 'password',
    secret: { password: 'canary-password-Qm7v!"\\ü' },
    canaries: ['canary-password-Qm7v'],
  },
  {
    type: 'api_key',
    secret: { apiKey: 'canary-apikey-Zx81_live_0c9f2d' },
    canaries: ['canary-apikey-Zx81'],
  },
  {
    type: 'oauth',
    secret: {
      clientId: 'client-e2e-4711',
      clientSecret: 'canary-oauth-secret-Kp4t',
      tokenUrl: 'https://auth.acme.example/oauth/token',
      scopes: ['read:users', 'write:users'],
    },
    canaries: ['canary-oauth-secret-Kp4t'],
  },
  {
    type: 'ssh_key',
    secret: { privateKey: SSH_ED25519.openSsh, publicKey: SSH_ED25519.publicLine },
    canaries: pemBodyLines(SSH_ED25519.openSsh),
  },
  {
    type: 'shared_secret',
    secret: { secret: 'canary-shared-Hb2w-whsec' },
    canaries: ['canary-shared-Hb2w'],
  },
  {
    type: 'jwt',
    secret: { token: JWT_TOKEN },
    canaries: [JWT_TOKEN, JWT_TOKEN.split('.')[2], 'canary-jwt-claim-Tg5s'],
  },
  {
    type: 'connection_string',
    secret: { connectionString: 'mysql://app:canary-conn-Wd9r@db.acme.internal:3306/app' },
    canaries: ['canary-conn-Wd9r'],
  },
  {
    type: 'certificate',
    secret: {
      certificate: LEAF_CERTIFICATE,
      privateKey: LEAF_PRIVATE_KEY,
      chain: INTERMEDIATE_CA_CERTIFICATE + ROOT_CA_CERTIFICATE,
    },
    canaries: pemBodyLines(LEAF_PRIVATE_KEY),
  },
];

export const ALL_CANARIES = TYPE_FIXTURES.flatMap((fixture) => fixture.canaries);

/** The canaries found in a response body (none expected outside reveal). */
export function canariesIn(body: unknown, canaries: readonly string[] = ALL_CANARIES): string[] {
  const text = JSON.stringify(body);
  return canaries.filter((canary) => text.includes(canary));
}

export interface CredentialBody {
  path: string;
  name?: string;
  type?: CredentialType;
  secret?: Record<string, unknown>;
  [field: string]: unknown;
}

export interface CredentialMetadata {
  id: string;
  path: string;
  name: string;
  type: CredentialType;
  tags: string[];
  status: string;
  currentVersion: number;
  expiresAt: string | null;
  secretInfo: Record<string, unknown> | null;
  updatedAt: string;
  [field: string]: unknown;
}

/** Creates a credential over HTTP (a password unless told otherwise) and returns its metadata. */
export async function createCredential(
  sut: TestApp,
  headers: Headers,
  body: CredentialBody,
): Promise<CredentialMetadata> {
  const response = await sut.http
    .post('/api/v1/credentials')
    .set(headers)
    .send({
      name: body.path,
      type: 'password',
      secret: { password: `pw-${body.path}` },
      ...body,
    })
    .expect(201);
  return response.body as CredentialMetadata;
}

/** The password of a password credential after `PUT …/secret`, for version histories. */
export function passwordNumber(n: number): Record<string, unknown> {
  return { password: `password-number-${n}` };
}
