import fc from 'fast-check';
import { credentialPathOf, findMount, listChildren, listPrefixOf, nameOfPath } from './vault-paths';

const ROOT = { name: 'secret', prefix: '' };
const TEAMS = { name: 'kv', prefix: 'teams/' };

describe('findMount', () => {
  it('should find a configured mount by name and nothing else', () => {
    expect(findMount([ROOT, TEAMS], 'kv')).toBe(TEAMS);
    expect(findMount([ROOT, TEAMS], 'secrets')).toBeUndefined();
  });
});

describe('credentialPathOf', () => {
  it('should put the path under the mount’s prefix', () => {
    expect(credentialPathOf(ROOT, 'acme/prod/db')).toBe('acme/prod/db');
    expect(credentialPathOf(TEAMS, 'x')).toBe('teams/x');
  });

  it('should drop leading and trailing slashes', () => {
    expect(credentialPathOf(TEAMS, '/billing/stripe/')).toBe('teams/billing/stripe');
  });
});

describe('listPrefixOf', () => {
  it('should name the mount’s root for an empty folder', () => {
    expect(listPrefixOf(ROOT, '')).toBe('');
    expect(listPrefixOf(TEAMS, '/')).toBe('teams/');
  });

  it('should end a folder with a slash whether or not the client sent one', () => {
    expect(listPrefixOf(ROOT, 'acme/prod')).toBe('acme/prod/');
    expect(listPrefixOf(ROOT, 'acme/prod/')).toBe('acme/prod/');
    expect(listPrefixOf(TEAMS, 'billing')).toBe('teams/billing/');
  });
});

describe('listChildren', () => {
  it('should list the immediate children, folders ending in a slash, each once, sorted', () => {
    expect(
      listChildren('acme/', ['acme/prod/db', 'acme/prod/cache', 'acme/web', 'acme/dev/x/y']),
    ).toEqual(['dev/', 'prod/', 'web']);
  });

  it('should list a name that is both a secret and a folder twice, as Vault does', () => {
    expect(listChildren('', ['a', 'a/b'])).toEqual(['a', 'a/']);
  });

  it('should ignore paths outside the folder and the folder itself', () => {
    expect(listChildren('acme/', ['acmex/y', 'other/acme/z', 'acme/'])).toEqual([]);
  });

  it('should never answer a key holding a slash anywhere but at its end', () => {
    const segment = fc.stringMatching(/^[a-z0-9]{1,4}$/);
    fc.assert(
      fc.property(fc.array(fc.array(segment, { minLength: 1, maxLength: 4 })), (paths) => {
        const keys = listChildren(
          '',
          paths.map((p) => p.join('/')),
        );
        for (const key of keys) expect(key.slice(0, -1)).not.toContain('/');
        expect(new Set(keys).size).toBe(keys.length);
      }),
    );
  });
});

describe('nameOfPath', () => {
  it('should name a credential after the last segment of its path', () => {
    expect(nameOfPath('acme/prod/db')).toBe('db');
    expect(nameOfPath('db')).toBe('db');
  });
});
