import type { PrincipalAccess } from '../../auth/grants/access-policy';
import { INCIDENT_READERS, type Role } from '../../common/auth/access-vocabulary';
import type { StreamEvent } from '../outbox-reader';

/** Who listens: a person's role (null for a service account) and its access to paths. */
export interface Listener {
  role: Role | null;
  access: PrincipalAccess;
}

/**
 * Whether a listener may hear of an event. An incident's event goes only to the roles that may
 * read incidents (issue 12: viewers and services have no access to them), whatever their grants
 * on paths. A credential's event needs `read` on its path, by role or grant, exactly as for reading
 * the credential itself. Any other event without a path names no credential a grant could cover:
 * only those who may read every path hear it.
 */
export function mayHear(
  listener: Listener,
  event: Pick<StreamEvent, 'path' | 'resourceType'>,
): boolean {
  if (event.resourceType === 'incident') {
    return listener.role !== null && INCIDENT_READERS.includes(listener.role);
  }
  if (event.path === null) return listener.access.scopeOf('read') === 'all';
  return listener.access.can('read', event.path);
}
