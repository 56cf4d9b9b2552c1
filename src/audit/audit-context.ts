import type { AuditActorType, AuditOutcome } from './entities/audit-event.entity';

export interface AuditActor {
  type: AuditActorType;
  id?: string | null;
  display?: string | null;
}

export const ANONYMOUS: AuditActor = { type: 'anonymous' };
export const SYSTEM: AuditActor = { type: 'system', id: 'custos', display: 'Custos' };

/**
 * Who is asking and from where, for one HTTP request. Created before routing; authentication
 * sets the actor. When a service records the request's event itself (inside its transaction),
 * `recorded` tells the HTTP capture not to record a second one.
 */
export class AuditRequestContext {
  actor: AuditActor = ANONYMOUS;
  /** An event of this request has committed (set by the writer after the commit, never before). */
  recorded = false;
  /** The HTTP capture has tried to record this request: it tries once, even if that fails. */
  captureAttempted = false;

  constructor(
    readonly requestId: string,
    readonly ip: string | null,
    readonly userAgent: string | null,
  ) {}
}

export interface AuditEventInput {
  /** Dotted name, e.g. `credential.reveal`, `auth.login.failed`. */
  action: string;
  outcome: AuditOutcome;
  resourceType?: string | null;
  resourceId?: string | null;
  httpStatus?: number | null;
  /** Sanitized before storage: never put a secret here, but if one slips in it is redacted. */
  details?: Record<string, unknown>;
  /** The HTTP request this event belongs to, if any. */
  context?: AuditRequestContext;
  /** Overrides the context's actor; system jobs pass SYSTEM. */
  actor?: AuditActor;
}

export function outcomeForStatus(status: number): AuditOutcome {
  if (status < 400) return 'success';
  if (status === 401 || status === 403 || status === 429) return 'denied';
  if (status < 500) return 'invalid';
  return 'error';
}
