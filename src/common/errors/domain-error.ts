import type { AuditHint } from './audit-hint';

/**
 * What went wrong, in the domain's words. The global filter turns the kind into an HTTP status,
 * so services never import HTTP classes.
 */
export type DomainErrorKind =
  | 'invalid'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'precondition_failed'
  | 'unavailable';

export abstract class DomainError extends Error {
  abstract readonly kind: DomainErrorKind;
  /** For the audit event only; never part of the HTTP answer. */
  auditHint?: AuditHint;
  /** Machine-readable facts for the client (ids, never secrets), sent as the body's `details`. */
  details?: Record<string, unknown>;
  /** Seconds after which trying again may succeed, sent as `Retry-After` (503s). */
  retryAfterSeconds?: number;

  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }

  /** `throw new CredentialNotFoundError().withAudit({ outcome: 'denied' })` */
  withAudit(hint: AuditHint): this {
    this.auditHint = hint;
    return this;
  }
}

export function auditHintOf(error: unknown): AuditHint | undefined {
  return error instanceof DomainError ? error.auditHint : undefined;
}
