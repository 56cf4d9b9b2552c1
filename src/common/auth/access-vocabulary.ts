/**
 * The words of access control that every module speaks: roles of people and capabilities on
 * credential paths. They live here, not in auth, so that decorators and domain modules can name
 * them without depending on the module that enforces them.
 */
export const ROLES = ['admin', 'operator', 'auditor', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

/**
 * The roles that may read incidents (issue 12): operators and admins write them, auditors read
 * them; viewers and service accounts have no access, not even to their events.
 */
export const INCIDENT_READERS: readonly Role[] = ['admin', 'operator', 'auditor'];

export const CAPABILITIES = ['read', 'reveal', 'write', 'rotate', 'delete'] as const;
export type Capability = (typeof CAPABILITIES)[number];
