import type { PrincipalAccess } from '../../auth/grants/access-policy';
import type { StreamEvent } from '../outbox-reader';

/**
 * Whether a listener may hear of an event: it must be allowed to `read` the credential's path,
 * by role or grant, exactly as for reading the credential itself. An event without a path names
 * no credential a grant could cover: only those who may read every path hear it.
 */
export function mayHear(access: PrincipalAccess, event: Pick<StreamEvent, 'path'>): boolean {
  if (event.path === null) return access.scopeOf('read') === 'all';
  return access.can('read', event.path);
}
