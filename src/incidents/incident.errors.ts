import { DomainError } from '../common/errors/domain-error';
import type { IncidentStatus } from './incident-vocabulary';

export class IncidentNotFoundError extends DomainError {
  readonly kind = 'not_found';

  constructor() {
    super('Incident not found');
  }
}

/** The workflow does not allow the move; nothing was changed. */
export class IllegalTransitionError extends DomainError {
  readonly kind = 'conflict';

  constructor(from: IncidentStatus, to: IncidentStatus, allowed: readonly IncidentStatus[]) {
    super(
      `An incident that is ${from} cannot move to ${to}; ` +
        (allowed.length ? `it can move to ${allowed.join(' or ')}` : 'it cannot move'),
    );
    this.details = { from, to, allowed };
  }
}

/** Ids in a link request that name nothing; nothing was linked. */
export class UnknownLinkTargetError extends DomainError {
  readonly kind = 'not_found';

  constructor(what: 'credential' | 'user' | 'service account', ids: string[]) {
    super(`Unknown ${what}${ids.length > 1 ? 's' : ''}: ${ids.join(', ')}`);
    this.details = { ids };
  }
}

export class IncidentAssigneeNotFoundError extends DomainError {
  readonly kind = 'invalid';

  constructor() {
    super('assigneeId names no user');
  }
}

/** If-Match named another row version: someone changed the incident meanwhile. */
export class IncidentChangedError extends DomainError {
  readonly kind = 'precondition_failed';

  constructor(current: number) {
    super(`The incident has changed (row version ${current}); read it again`);
    this.details = { rowVersion: current };
  }
}
