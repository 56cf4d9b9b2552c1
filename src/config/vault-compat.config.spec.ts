import { ConfigError } from './config-error';
import { loadVaultCompatConfig, parseVaultMounts } from './vault-compat.config';

describe('loadVaultCompatConfig', () => {
  it('should be on, mount secret at the root and issue one-hour tokens by default', () => {
    expect(loadVaultCompatConfig({})).toEqual({
      enabled: true,
      mounts: [{ name: 'secret', prefix: '' }],
      tokenTtlSeconds: 3600,
    });
  });

  it('should read every variable', () => {
    expect(
      loadVaultCompatConfig({
        VAULT_COMPAT_ENABLED: 'false',
        VAULT_COMPAT_MOUNTS: 'secret=, kv=teams/',
        VAULT_COMPAT_TOKEN_TTL: 'PT15M',
      }),
    ).toEqual({
      enabled: false,
      mounts: [
        { name: 'secret', prefix: '' },
        { name: 'kv', prefix: 'teams/' },
      ],
      tokenTtlSeconds: 900,
    });
  });

  it.each([
    ['VAULT_COMPAT_ENABLED', 'maybe'],
    ['VAULT_COMPAT_TOKEN_TTL', 'PT10S'],
    ['VAULT_COMPAT_TOKEN_TTL', 'P2D'],
    ['VAULT_COMPAT_TOKEN_TTL', '1h'],
  ])('should refuse %s=%j, naming it', (name, value) => {
    expect(() => loadVaultCompatConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadVaultCompatConfig({ [name]: value })).toThrow(name);
  });
});

describe('parseVaultMounts', () => {
  it('should read nested prefixes', () => {
    expect(parseVaultMounts('app=acme/prod/')).toEqual([{ name: 'app', prefix: 'acme/prod/' }]);
  });

  it.each([
    ['no mount at all', ' , '],
    ['an entry without =', 'secret'],
    ['an upper-case name', 'Secret='],
    ['a name Vault reserves', 'sys='],
    ['a name twice', 'a=,a=x/'],
    ['a prefix without its trailing slash', 'kv=teams'],
    ['a prefix with an empty segment', 'kv=teams//'],
    ['a prefix with ..', 'kv=../'],
    ['an upper-case prefix', 'kv=Teams/'],
  ])('should refuse %s with a ConfigError naming VAULT_COMPAT_MOUNTS', (_case, value) => {
    expect(() => parseVaultMounts(value)).toThrow(ConfigError);
    expect(() => parseVaultMounts(value)).toThrow('VAULT_COMPAT_MOUNTS');
  });
});
