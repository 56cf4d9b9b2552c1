import { PrincipalAccess, roleCapabilities } from '../../auth/grants/access-policy';
import { mayHear } from './event-visibility';

describe('mayHear', () => {
  const service = new PrincipalAccess(new Set(), [
    { pathPattern: 'acme/prod/*', capabilities: 'read,reveal' },
    { pathPattern: 'beta/**', capabilities: 'reveal' },
  ]);

  it.each([
    ['acme/prod/db', true],
    ['acme/prod/deep/db', false],
    ['acme/staging/db', false],
    // reveal without read: the credential is not even visible to it
    ['beta/x/db', false],
  ])('should let a service hear of %s only where a grant gives read: %s', (path, expected) => {
    expect(mayHear(service, { path })).toBe(expected);
  });

  it('should keep events without a path from services, and give them to roles that read everything', () => {
    expect(mayHear(service, { path: null })).toBe(false);
    expect(mayHear(new PrincipalAccess(roleCapabilities('viewer'), []), { path: null })).toBe(true);
    expect(
      mayHear(new PrincipalAccess(roleCapabilities('auditor'), []), { path: 'any/path' }),
    ).toBe(true);
  });

  it('should hear nothing without grants', () => {
    expect(mayHear(new PrincipalAccess(new Set(), []), { path: 'acme/prod/db' })).toBe(false);
  });
});
