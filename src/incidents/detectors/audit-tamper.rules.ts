import type { VerifyResult } from '../../audit/audit-verifier';
import type { TimelineProblem } from '../timeline-integrity';
import type { DetectorFinding } from './detector-finding';

/** An incident whose timeline disagrees with the audit events it was written with. */
export interface TamperedTimeline {
  incidentId: string;
  problems: TimelineProblem[];
}

/** Enough to find the rows again, few enough to keep one detection readable. */
const LISTED_TIMELINES = 20;
const LISTED_PROBLEMS = 10;

/**
 * A failed verification of the audit chain (an event was changed, deleted or reordered, or a
 * checkpoint does not match), or incident timelines that no longer match their audit events. One
 * dedupe key for all breaks, so a chain or timeline that stays broken adds to the open incident
 * instead of opening one per scheduled run.
 */
export function auditTamperFinding(
  result: VerifyResult,
  timelines: TamperedTimeline[] = [],
): DetectorFinding | null {
  if (result.ok && timelines.length === 0) return null;
  const entries = timelines.reduce((sum, timeline) => sum + timeline.problems.length, 0);
  return {
    detector: 'audit_tamper',
    type: 'audit_tamper',
    severity: 'critical',
    title: result.ok
      ? `Incident timelines disagree with the audit chain (entries: ${entries}, incidents: ${timelines.length})`
      : `Audit chain verification failed at seq ${result.firstBadSeq ?? 'unknown'}`,
    dedupeKey: 'audit_tamper',
    credentialIds: [],
    principals: [],
    facts: {
      firstBadSeq: result.firstBadSeq ?? null,
      reason: result.reason ?? null,
      verified: result.verified,
      headSeq: result.headSeq,
      ...(timelines.length
        ? {
            tamperedTimelines: timelines.slice(0, LISTED_TIMELINES).map((timeline) => ({
              incidentId: timeline.incidentId,
              problems: timeline.problems.slice(0, LISTED_PROBLEMS),
            })),
          }
        : {}),
    },
  };
}
