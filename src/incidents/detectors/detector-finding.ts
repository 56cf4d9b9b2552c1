/** A principal an incident names, as the incidents core links it. */
export interface FindingPrincipal {
  type: 'user' | 'service_account';
  id: string;
}

export type DetectorName = 'brute_force' | 'mass_reveal' | 'rotation_failure' | 'audit_tamper';

/**
 * What a detector found, ready for `openOrAdd`: the incident to open (or add to, by `dedupeKey`)
 * and the facts that justify it. Facts are counts, ids, IPs and seqs, never secret values.
 */
export interface DetectorFinding {
  detector: DetectorName;
  type: 'brute_force' | 'unauthorized_access' | 'rotation_failure' | 'audit_tamper';
  severity: 'low' | 'medium' | 'high' | 'critical';
  title: string;
  dedupeKey: string;
  credentialIds: string[];
  principals: FindingPrincipal[];
  facts: Record<string, unknown>;
}

/** The audit actor types that name a principal an incident can link. */
export function principalOf(actorType: string, actorId: string | null): FindingPrincipal | null {
  if (!actorId) return null;
  if (actorType === 'user') return { type: 'user', id: actorId };
  if (actorType === 'service') return { type: 'service_account', id: actorId };
  return null;
}
