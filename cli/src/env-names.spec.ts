import { CliError } from './errors';
import { envNameOf, fieldNameOf, mapToEnv, parseEnvOverride } from './env-names';

const names = (assignments: { name: string; value: string }[]) =>
  Object.fromEntries(assignments.map((a) => [a.name, a.value]));

describe('env-names', () => {
  it('should name a variable after the last path segment, upper-cased, other characters as _', () => {
    expect(envNameOf('db-password')).toBe('DB_PASSWORD');
    expect(envNameOf('stripe.api key')).toBe('STRIPE_API_KEY');
    expect(envNameOf('9lives')).toBe('_9LIVES');
  });

  it('should split camelCase field names', () => {
    expect(fieldNameOf('clientSecret')).toBe('CLIENT_SECRET');
    expect(fieldNameOf('apiKey')).toBe('API_KEY');
  });

  it('should give a one-field secret the bare name and a several-field secret NAME_FIELD', () => {
    const env = mapToEnv([
      { path: 'acme/prod/db-password', secret: { password: 'p1' } },
      { path: 'acme/prod/stripe', secret: { clientId: 'id', clientSecret: 's', scopes: null } },
    ]);
    expect(names(env)).toEqual({
      DB_PASSWORD: 'p1',
      STRIPE_CLIENT_ID: 'id',
      STRIPE_CLIENT_SECRET: 's',
    });
  });

  it('should put --prefix before default names only', () => {
    const env = mapToEnv(
      [
        { path: 'a/db', secret: { password: 'p' } },
        { path: 'a/key', secret: { apiKey: 'k' } },
      ],
      [{ name: 'THE_KEY', path: 'a/key' }],
      'APP_',
    );
    expect(names(env)).toEqual({ APP_DB: 'p', THE_KEY: 'k' });
  });

  it('should refuse two values wanting one name, naming the paths and never a value', () => {
    const secrets = [
      { path: 'acme/prod/db', secret: { password: 'first-secret' } },
      { path: 'acme/stage/db', secret: { password: 'second-secret' } },
    ];
    expect(() => mapToEnv(secrets)).toThrow(CliError);
    try {
      mapToEnv(secrets);
    } catch (error) {
      const message = (error as Error).message;
      expect(message).toContain('acme/prod/db');
      expect(message).toContain('acme/stage/db');
      expect(message).not.toContain('secret"');
      expect(message).not.toContain('first-secret');
    }
  });

  it('should resolve a collision by an override', () => {
    const env = mapToEnv(
      [
        { path: 'acme/prod/db', secret: { password: 'p' } },
        { path: 'acme/stage/db', secret: { password: 's' } },
      ],
      [{ name: 'STAGE_DB', path: 'acme/stage/db' }],
    );
    expect(names(env)).toEqual({ DB: 'p', STAGE_DB: 's' });
  });

  it('should refuse an override of a several-field secret without #field, or of a missing field', () => {
    const secrets = [{ path: 'a/oauth', secret: { clientId: 'i', clientSecret: 's' } }];
    expect(() => mapToEnv(secrets, [{ name: 'X', path: 'a/oauth' }])).toThrow(/#field/);
    expect(() => mapToEnv(secrets, [{ name: 'X', path: 'a/oauth', field: 'nope' }])).toThrow(
      /no field "nope"/,
    );
    expect(names(mapToEnv(secrets, [{ name: 'X', path: 'a/oauth', field: 'clientId' }]))).toEqual({
      X: 'i',
      OAUTH_CLIENT_SECRET: 's',
    });
  });

  it('should parse --env NAME=path[#field] and refuse bad ones as usage errors', () => {
    expect(parseEnvOverride('DB=acme/prod/db')).toEqual({ name: 'DB', path: 'acme/prod/db' });
    expect(parseEnvOverride('ID=a/oauth#clientId')).toEqual({
      name: 'ID',
      path: 'a/oauth',
      field: 'clientId',
    });
    for (const bad of ['acme/prod/db', '=a/b', '1X=a/b', 'X=', 'X=a/b#']) {
      expect(() => parseEnvOverride(bad)).toThrow(expect.objectContaining({ exitCode: 2 }));
    }
  });

  it('should refuse a default name that steers how programs start, unless named with --env', () => {
    for (const path of ['acme/prod/ld-preload', 'acme/prod/path', 'acme/prod/node-options']) {
      expect(() => mapToEnv([{ path, secret: { password: 'x' } }])).toThrow(
        /changes how programs start/,
      );
    }
    expect(names(mapToEnv([{ path: 'a/path', secret: { password: 'x' } }], [], 'APP_'))).toEqual({
      APP_PATH: 'x',
    });
    expect(
      names(
        mapToEnv([{ path: 'a/path', secret: { password: 'x' } }], [{ name: 'DB', path: 'a/path' }]),
      ),
    ).toEqual({ DB: 'x' });
  });
});
