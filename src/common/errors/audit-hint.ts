/**
 * What an error adds to the audit event of the request it ends, where its HTTP status alone would
 * tell the auditor less than the truth: a 404 that hides a refusal is `denied` in the audit log,
 * though the caller must not be able to tell it from a missing object (DESIGN.md §4.5).
 */
export interface AuditHint {
  outcome?: 'denied';
  /** Merged into the event's details; sanitized like any other. */
  details?: Record<string, unknown>;
}
