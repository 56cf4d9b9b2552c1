import type { DetectorsConfig } from '../../config/detectors.config';
import { bruteForceFindings } from './brute-force.rules';
import type { DetectorFinding, DetectorName } from './detector-finding';
import type { DetectorEvent, SubjectColumn } from './detector-events.query';
import { massRevealFindings } from './mass-reveal.rules';
import { rotationFailureFindings } from './rotation-failure.rules';

/**
 * A detector over some audit actions: which events it reads, how it narrows the history to the
 * subjects the new events touch, and its rule. The runner does the reading, the lease and the
 * cursor; these say only what differs.
 */
export interface AuditLogDetector {
  name: DetectorName;
  actions: string[];
  outcome?: string;
  enabled(config: DetectorsConfig): boolean;
  windowSeconds(config: DetectorsConfig): number;
  /** The history to read for these new events; undefined: every event of the action in the window. */
  subjects(events: DetectorEvent[]): { column: SubjectColumn; ids: string[] } | undefined;
  findings(history: DetectorEvent[], config: DetectorsConfig, afterSeq: string): DetectorFinding[];
}

/** A field of an event's details (canonical JSON text), when it is a string. */
function detail(event: DetectorEvent, field: string): string | null {
  try {
    const value = (JSON.parse(event.details) as Record<string, unknown>)[field];
    return typeof value === 'string' ? value : null;
  } catch {
    return null;
  }
}

function idsOf(events: DetectorEvent[], id: (e: DetectorEvent) => string | null): string[] {
  return [...new Set(events.map(id).filter((v): v is string => !!v))];
}

export const BRUTE_FORCE: AuditLogDetector = {
  name: 'brute_force',
  // An attempt on a locked account is answered without checking the password, and the lockout
  // resets the failure count: an attacker going on past the lockout is still counted.
  actions: ['auth.login.failed', 'auth.login.locked'],
  enabled: (config) => config.bruteForce.enabled,
  windowSeconds: (config) => config.bruteForce.windowSeconds,
  // By IP as well as by account: the whole window of failures, which the login throttle and the
  // lockout keep short.
  subjects: () => undefined,
  findings: (history, config, afterSeq) =>
    bruteForceFindings(
      history.map((e) => ({
        seq: e.seq,
        at: e.at,
        ip: e.ip,
        userId: e.resourceId,
        email: e.resourceId ? null : detail(e, 'email'),
      })),
      {
        perAccountThreshold: config.bruteForce.threshold,
        perIpThreshold: config.bruteForce.ipThreshold,
        windowSeconds: config.bruteForce.windowSeconds,
      },
      afterSeq,
    ),
};

export const MASS_REVEAL: AuditLogDetector = {
  name: 'mass_reveal',
  actions: ['credential.reveal'],
  outcome: 'success',
  enabled: (config) => config.massReveal.enabled,
  windowSeconds: (config) => config.massReveal.windowSeconds,
  subjects: (events) => ({ column: 'actor_id', ids: idsOf(events, (e) => e.actorId) }),
  findings: (history, config, afterSeq) =>
    massRevealFindings(
      history
        .filter((e) => e.resourceId !== null)
        .map((e) => ({
          seq: e.seq,
          at: e.at,
          actorType: e.actorType,
          actorId: e.actorId,
          credentialId: e.resourceId as string,
          ip: e.ip,
        })),
      {
        distinctCredentials: config.massReveal.threshold,
        windowSeconds: config.massReveal.windowSeconds,
      },
      afterSeq,
    ),
};

export const ROTATION_FAILURE: AuditLogDetector = {
  name: 'rotation_failure',
  actions: ['rotation.failed'],
  enabled: (config) => config.rotationFailure.enabled,
  windowSeconds: (config) => config.rotationFailure.windowSeconds,
  subjects: (events) => ({ column: 'resource_id', ids: idsOf(events, (e) => e.resourceId) }),
  findings: (history, config, afterSeq) =>
    rotationFailureFindings(
      history
        .filter((e) => e.resourceId !== null)
        .map((e) => ({
          seq: e.seq,
          at: e.at,
          credentialId: e.resourceId as string,
          runId: detail(e, 'runId'),
        })),
      {
        threshold: config.rotationFailure.threshold,
        windowSeconds: config.rotationFailure.windowSeconds,
      },
      afterSeq,
    ),
};

export const AUDIT_LOG_DETECTORS = [BRUTE_FORCE, MASS_REVEAL, ROTATION_FAILURE];
