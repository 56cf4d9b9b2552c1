import { createHmac } from 'node:crypto';
import { problemsOf } from './__fixtures__/problems-of';
import { parseJwtSecret } from './jwt-secret';

const KEY = 'test-hmac-key';

function part(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString(
    'base64url',
  );
}

/** An HS256-signed token of `payload` (the header can be replaced). */
function jwt(payload: unknown, header: unknown = { alg: 'HS256', typ: 'JWT' }): string {
  const signingInput = `${part(header)}.${part(payload)}`;
  return `${signingInput}.${createHmac('sha256', KEY).update(signingInput).digest('base64url')}`;
}

function tokenProblem(token: string): string[] {
  const problems = problemsOf(() => parseJwtSecret({ token }));
  expect(problems.map((problem) => problem.field)).toEqual(['secret.token']);
  return problems[0].errors;
}

describe('parseJwtSecret', () => {
  it('should derive alg, expiry, issuer and subject, and no other claim', () => {
    const token = jwt({
      iss: 'https://issuer.example',
      sub: 'service-42',
      exp: 2_000_000_000,
      email: 'someone@example.com',
      scope: 'admin',
    });
    expect(parseJwtSecret({ token })).toEqual({
      value: { token },
      derived: {
        alg: 'HS256',
        expiresAt: new Date(2_000_000_000_000),
        issuer: 'https://issuer.example',
        subject: 'service-42',
      },
      expiresAt: new Date(2_000_000_000_000),
    });
  });

  it('should derive no expiry when exp is absent, not a number, or out of range', () => {
    for (const payload of [{}, { exp: '2000000000' }, { exp: 1e300 }]) {
      const sut = parseJwtSecret({ token: jwt(payload) });
      expect(sut).toEqual({ value: { token: jwt(payload) }, derived: { alg: 'HS256' } });
    }
  });

  it('should keep a fractional expiry', () => {
    expect(parseJwtSecret({ token: jwt({ exp: 1.5 }) }).expiresAt).toEqual(new Date(1500));
  });

  it('should accept an unsecured token (alg none) with an empty signature', () => {
    const token = `${part({ alg: 'none' })}.${part({ sub: 'x' })}.`;
    expect(parseJwtSecret({ token }).derived).toEqual({ alg: 'none', subject: 'x' });
  });

  it.each([
    [
      'two parts',
      'aGVhZGVy.cGF5bG9hZA',
      'token must be three base64url parts separated by dots (header.payload.signature)',
    ],
    [
      'five parts (a JWE)',
      'a.b.c.d.e',
      'token must be three base64url parts separated by dots (header.payload.signature)',
    ],
    ['whitespace', `${jwt({})}\n`, 'token must not contain whitespace'],
    [
      'a header that is not JSON',
      `${part('{alg')}.${part({})}.c2ln`,
      'token header must be a base64url-encoded JSON object',
    ],
    [
      'a header that is a JSON array',
      `${part(['HS256'])}.${part({})}.c2ln`,
      'token header must be a base64url-encoded JSON object',
    ],
    [
      'a header in padded base64',
      `${part({ alg: 'HS256' })}=.${part({})}.c2ln`,
      'token header must be a base64url-encoded JSON object',
    ],
    [
      'a header without alg',
      jwt({}, { typ: 'JWT' }),
      'token header must name its algorithm in alg',
    ],
    [
      'an alg that is not a name',
      jwt({}, { alg: 'HS 256' }),
      'token header must name its algorithm in alg',
    ],
    [
      'a payload that is not a JSON object',
      `${part({ alg: 'HS256' })}.${part('"claims"')}.c2ln`,
      'token payload must be a base64url-encoded JSON object',
    ],
    [
      'a signature that is not base64url',
      `${part({ alg: 'HS256' })}.${part({})}.c2ln+`,
      'token signature must be base64url',
    ],
    [
      'an empty signature on a signed algorithm',
      `${part({ alg: 'HS256' })}.${part({})}.`,
      'token signature is missing',
    ],
  ])('should refuse a token with %s', (_label, token, error) => {
    expect(tokenProblem(token)).toEqual([error]);
  });

  it('should refuse an empty token and unknown fields', () => {
    expect(problemsOf(() => parseJwtSecret({ token: '', kid: 'x' }))).toEqual([
      { field: 'secret', errors: ['the secret has 1 unknown field; the allowed fields are token'] },
      { field: 'secret.token', errors: ['token must not be empty'] },
    ]);
  });
});
