import { problemsOf } from './__fixtures__/problems-of';
import { MAX_SCOPES, parseOauthSecret } from './oauth-secret';

const BASE = { clientId: 'custos-client', clientSecret: ' s3cr3t ' };

describe('parseOauthSecret', () => {
  it('should accept client credentials with a token URL and scopes, exactly as given', () => {
    const input = {
      ...BASE,
      tokenUrl: 'https://auth.example.test/oauth2/token',
      scopes: ['read:secrets', 'openid'],
    };
    expect(parseOauthSecret(input)).toEqual({ value: input, derived: {} });
  });

  it('should accept client credentials alone, leaving out optional fields that are null', () => {
    expect(parseOauthSecret({ ...BASE, tokenUrl: null, scopes: null })).toEqual({
      value: BASE,
      derived: {},
    });
  });

  it.each(['http://localhost:8080/token', 'http://127.0.0.1/token', 'http://[::1]:9000/token'])(
    'should accept plain http on the loopback host: %s',
    (tokenUrl) => {
      expect(parseOauthSecret({ ...BASE, tokenUrl }).value).toEqual({ ...BASE, tokenUrl });
    },
  );

  it.each([
    [
      'plain http elsewhere',
      'http://auth.example.test/token',
      'tokenUrl must be an https URL (http is allowed only for localhost)',
    ],
    [
      'another scheme',
      'ftp://auth.example.test/token',
      'tokenUrl must be an https URL (http is allowed only for localhost)',
    ],
    ['a relative URL', '/oauth2/token', 'tokenUrl must be an absolute URL'],
    [
      'credentials in the URL',
      'https://user:pw@auth.example.test/token',
      'tokenUrl must not hold a user name or password',
    ],
    [
      'a URL over 2048 characters',
      `https://auth.example.test/${'a'.repeat(2048)}`,
      'tokenUrl must be at most 2048 characters',
    ],
  ])('should refuse a token URL with %s', (_label, tokenUrl, error) => {
    expect(problemsOf(() => parseOauthSecret({ ...BASE, tokenUrl }))).toEqual([
      { field: 'secret.tokenUrl', errors: [error] },
    ]);
  });

  it('should name each bad scope by its index', () => {
    const scopes = ['ok', 'has space', '', 7, 'x'.repeat(257)];
    expect(problemsOf(() => parseOauthSecret({ ...BASE, scopes }))).toEqual([
      { field: 'secret.scopes.1', errors: ['each scope must not contain whitespace'] },
      { field: 'secret.scopes.2', errors: ['each scope must not be empty'] },
      { field: 'secret.scopes.3', errors: ['each scope must be a string'] },
      { field: 'secret.scopes.4', errors: ['each scope must be at most 256 characters'] },
    ]);
  });

  it.each([
    ['not an array', 'read write'],
    ['more than the maximum', Array.from({ length: MAX_SCOPES + 1 }, (_, i) => `s${i}`)],
  ])('should refuse scopes that are %s', (_label, scopes) => {
    expect(problemsOf(() => parseOauthSecret({ ...BASE, scopes }))).toEqual([
      {
        field: 'secret.scopes',
        errors: [`scopes must be an array of at most ${MAX_SCOPES} strings`],
      },
    ]);
  });

  it('should refuse long or missing client fields, all at once', () => {
    expect(
      problemsOf(() =>
        parseOauthSecret({ clientId: 'x'.repeat(513), clientSecret: 'y'.repeat(4097) }),
      ),
    ).toEqual([
      { field: 'secret.clientId', errors: ['clientId must be at most 512 characters'] },
      { field: 'secret.clientSecret', errors: ['clientSecret must be at most 4096 characters'] },
    ]);
    expect(problemsOf(() => parseOauthSecret({}))).toEqual([
      { field: 'secret.clientId', errors: ['clientId is required'] },
      { field: 'secret.clientSecret', errors: ['clientSecret is required'] },
    ]);
  });

  it('should refuse snake_case field names without repeating them', () => {
    expect(problemsOf(() => parseOauthSecret({ client_id: 'a', client_secret: 'b' }))).toEqual([
      {
        field: 'secret',
        errors: [
          'the secret has 2 unknown fields; the allowed fields are clientId, clientSecret, tokenUrl, scopes',
        ],
      },
      { field: 'secret.clientId', errors: ['clientId is required'] },
      { field: 'secret.clientSecret', errors: ['clientSecret is required'] },
    ]);
  });
});
