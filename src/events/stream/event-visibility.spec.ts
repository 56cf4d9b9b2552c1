import { PrincipalAccess, roleCapabilities } from '../../auth/grants/access-policy';
import type { Role } from '../../common/auth/access-vocabulary';
import { Listener, mayHear } from './event-visibility';

const credential = (path: string | null) => ({ resourceType: 'credential', path });
const incident = { resourceType: 'incident', path: null };

const person = (role: Role): Listener => ({
  role,
  access: new PrincipalAccess(roleCapabilities(role), []),
});

describe('mayHear', () => {
  const service: Listener = {
    role: null,
    access: new PrincipalAccess(new Set(), [
      { pathPattern: 'acme/prod/*', capabilities: 'read,reveal' },
      { pathPattern: 'beta/**', capabilities: 'reveal' },
      { pathPattern: '**', capabilities: 'read' },
    ]),
  };
  const acmeService: Listener = {
    role: null,
    access: new PrincipalAccess(new Set(), [
      { pathPattern: 'acme/prod/*', capabilities: 'read,reveal' },
      { pathPattern: 'beta/**', capabilities: 'reveal' },
    ]),
  };

  it.each([
    ['acme/prod/db', true],
    ['acme/prod/deep/db', false],
    ['acme/staging/db', false],
    // reveal without read: the credential is not even visible to it
    ['beta/x/db', false],
  ])('should let a service hear of %s only where a grant gives read: %s', (path, expected) => {
    expect(mayHear(acmeService, credential(path))).toBe(expected);
  });

  it('should keep events without a path from services, and give them to roles that read everything', () => {
    expect(mayHear(acmeService, credential(null))).toBe(false);
    expect(mayHear(person('viewer'), credential(null))).toBe(true);
    expect(mayHear(person('auditor'), credential('any/path'))).toBe(true);
  });

  it.each([
    ['admin', true],
    ['operator', true],
    ['auditor', true],
    ['viewer', false],
  ] as const)('should let a %s hear of incidents only if it may read them: %s', (role, expected) => {
    expect(mayHear(person(role), incident)).toBe(expected);
  });

  it('should keep incidents from services, even one that may read every path', () => {
    expect(mayHear(service, credential('any/path'))).toBe(true);
    expect(mayHear(service, incident)).toBe(false);
  });

  it('should keep incidents from a viewer whatever its grants', () => {
    const viewer: Listener = {
      role: 'viewer',
      access: new PrincipalAccess(roleCapabilities('viewer'), [
        { pathPattern: '**', capabilities: 'read,reveal,write,rotate,delete' },
      ]),
    };
    expect(mayHear(viewer, incident)).toBe(false);
  });

  it('should hear nothing without grants', () => {
    const nobody: Listener = { role: null, access: new PrincipalAccess(new Set(), []) };
    expect(mayHear(nobody, credential('acme/prod/db'))).toBe(false);
  });
});
