import { IllegalTransitionError } from './incident.errors';
import type { IncidentStatus } from './incident-vocabulary';

/**
 * The workflow (issue 12): investigating → contained → monitoring → resolved, straight from
 * contained to resolved when nothing needs watching, and back to investigating from monitoring
 * or resolved when the attacker turns out to be still there.
 */
export const TRANSITIONS: Readonly<Record<IncidentStatus, readonly IncidentStatus[]>> = {
  investigating: ['contained'],
  contained: ['monitoring', 'resolved'],
  monitoring: ['resolved', 'investigating'],
  resolved: ['investigating'],
};

export function canTransition(from: IncidentStatus, to: IncidentStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** Throws IllegalTransitionError (409, nothing changed) unless the move is allowed. */
export function assertTransition(from: IncidentStatus, to: IncidentStatus): void {
  if (!canTransition(from, to)) throw new IllegalTransitionError(from, to, TRANSITIONS[from]);
}

/**
 * The time stamps a move sets: the last containment and the resolution; reopening clears the
 * resolution, since the incident is no longer resolved.
 */
export function stampsFor(
  to: IncidentStatus,
  now: Date,
): { containedAt?: Date; resolvedAt?: Date | null } {
  if (to === 'contained') return { containedAt: now };
  if (to === 'resolved') return { resolvedAt: now };
  if (to === 'investigating') return { resolvedAt: null };
  return {};
}
