import type { VerifyResult } from '../../audit/audit-verifier';
import type { DetectorFinding } from './detector-finding';

/**
 * A failed verification of the audit chain: an event was changed, deleted or reordered, or a
 * checkpoint does not match. One dedupe key for all breaks, so a chain that stays broken adds to
 * the open incident instead of opening one per scheduled run.
 */
export function auditTamperFinding(result: VerifyResult): DetectorFinding | null {
  if (result.ok) return null;
  return {
    detector: 'audit_tamper',
    type: 'audit_tamper',
    severity: 'critical',
    title: `Audit chain verification failed at seq ${result.firstBadSeq ?? 'unknown'}`,
    dedupeKey: 'audit_tamper',
    credentialIds: [],
    principals: [],
    facts: {
      firstBadSeq: result.firstBadSeq ?? null,
      reason: result.reason ?? null,
      verified: result.verified,
      headSeq: result.headSeq,
    },
  };
}
