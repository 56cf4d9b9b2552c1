import { span } from './brute-force.rules';
import type { DetectorFinding } from './detector-finding';
import { groupBy } from '../../common/group-by';
import { latestBurst, Timed } from './sliding-window';

/** One `rotation.failed` event: a run that used up its attempts. */
export interface RotationFailure extends Timed {
  credentialId: string;
  runId: string | null;
}

export interface RotationFailureRule {
  threshold: number;
  windowSeconds: number;
}

/**
 * A credential whose rotation keeps failing: its secret stays in service past its schedule, and
 * an emergency rotation of it would fail too. The rotator's error text is left out of the facts:
 * it comes from the target system and may quote more than it should.
 */
export function rotationFailureFindings(
  failures: readonly RotationFailure[],
  rule: RotationFailureRule,
  afterSeq: string,
): DetectorFinding[] {
  const findings: DetectorFinding[] = [];
  for (const [credentialId, events] of groupBy(failures, (f) => f.credentialId)) {
    const burst = latestBurst(events, {
      threshold: rule.threshold,
      windowMs: rule.windowSeconds * 1000,
      afterSeq,
    });
    if (!burst) continue;
    findings.push({
      detector: 'rotation_failure',
      type: 'rotation_failure',
      severity: 'medium',
      title: `Rotation of credential ${credentialId} failed ${burst.count} times`,
      dedupeKey: `rotation_failure:${credentialId}`,
      credentialIds: [credentialId],
      principals: [],
      facts: {
        credentialId,
        failures: burst.count,
        runIds: burst.events.map((e) => e.runId).filter((id): id is string => !!id),
        ...span(burst.events),
        windowSeconds: rule.windowSeconds,
      },
    });
  }
  return findings;
}
