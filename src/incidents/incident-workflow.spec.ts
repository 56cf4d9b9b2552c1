import { isWithinWindow } from './incident-recorder';
import { INCIDENT_STATUSES, IncidentStatus } from './incident-vocabulary';
import { assertTransition, canTransition, stampsFor } from './incident-workflow';

const LEGAL: [IncidentStatus, IncidentStatus][] = [
  ['investigating', 'contained'],
  ['contained', 'monitoring'],
  ['contained', 'resolved'],
  ['monitoring', 'resolved'],
  ['monitoring', 'investigating'],
  ['resolved', 'investigating'],
];

describe('incident workflow', () => {
  const all = INCIDENT_STATUSES.flatMap((from) => INCIDENT_STATUSES.map((to) => [from, to]));

  it.each(all)('should allow %s → %s only if the workflow names it', (from, to) => {
    const legal = LEGAL.some(([f, t]) => f === from && t === to);
    expect(canTransition(from, to)).toBe(legal);
    if (legal) expect(() => assertTransition(from, to)).not.toThrow();
    else expect(() => assertTransition(from, to)).toThrow(/cannot move to/);
  });

  it('should stamp containment and resolution and clear the resolution on reopening', () => {
    const now = new Date('2026-11-30T00:00:00Z');
    expect(stampsFor('contained', now)).toEqual({ containedAt: now });
    expect(stampsFor('resolved', now)).toEqual({ resolvedAt: now });
    expect(stampsFor('investigating', now)).toEqual({ resolvedAt: null });
    expect(stampsFor('monitoring', now)).toEqual({});
  });
});

describe('dedupe window', () => {
  const detectedAt = new Date('2026-11-30T00:00:00Z');
  const at = (s: number) => new Date(detectedAt.getTime() + s * 1000);

  it('should join an open incident within the window and not after it', () => {
    expect(isWithinWindow({ status: 'investigating', detectedAt }, 60, at(60))).toBe(true);
    expect(isWithinWindow({ status: 'contained', detectedAt }, 60, at(61))).toBe(false);
  });

  it('should never join a resolved incident', () => {
    expect(isWithinWindow({ status: 'resolved', detectedAt }, 60, at(1))).toBe(false);
  });
});
