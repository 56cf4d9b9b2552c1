import { span } from './brute-force.rules';
import { DetectorFinding, principalOf } from './detector-finding';
import { groupBy } from '../../common/group-by';
import { distinctValues, latestBurst, Timed } from './sliding-window';

/** One successful `credential.reveal` event. */
export interface RevealEvent extends Timed {
  actorType: string;
  actorId: string | null;
  credentialId: string;
  ip: string | null;
}

export interface MassRevealRule {
  distinctCredentials: number;
  windowSeconds: number;
}

/**
 * One principal revealing many distinct credentials in a short window: a stolen session or key
 * being used to harvest the vault. Revealing one credential often (a service polling its own
 * secret) does not count; distinct credentials do.
 */
export function massRevealFindings(
  reveals: readonly RevealEvent[],
  rule: MassRevealRule,
  afterSeq: string,
): DetectorFinding[] {
  const findings: DetectorFinding[] = [];
  const byActor = groupBy(reveals, (r) => (r.actorId ? `${r.actorType}:${r.actorId}` : null));
  for (const [actor, events] of byActor) {
    const principal = principalOf(events[0].actorType, events[0].actorId);
    if (!principal) continue;
    const burst = latestBurst(events, {
      threshold: rule.distinctCredentials,
      windowMs: rule.windowSeconds * 1000,
      distinct: (e) => e.credentialId,
      afterSeq,
    });
    if (!burst) continue;
    const credentialIds = distinctValues(burst.events, (e) => e.credentialId);
    findings.push({
      detector: 'mass_reveal',
      type: 'unauthorized_access',
      severity: 'high',
      title: `${principal.type === 'user' ? 'User' : 'Service account'} ${principal.id} revealed ${burst.count} credentials in ${rule.windowSeconds} s`,
      dedupeKey: `unauthorized_access:mass_reveal:${actor}`,
      credentialIds,
      principals: [principal],
      facts: {
        principal,
        distinctCredentials: burst.count,
        reveals: burst.events.length,
        ips: distinctValues(burst.events, (e) => e.ip),
        ...span(burst.events),
        windowSeconds: rule.windowSeconds,
      },
    });
  }
  return findings;
}
