import { DomainError } from '../../common/errors/domain-error';

/** A credential has an open run: a second rotation would race it (DESIGN.md §5). */
export class RotationInProgressError extends DomainError {
  readonly kind = 'conflict';

  constructor(readonly runId: string) {
    super(`A rotation of this credential is in progress (run ${runId})`);
    this.details = { runId };
  }
}

export class RotationRunNotFoundError extends DomainError {
  readonly kind = 'not_found';

  constructor() {
    super('Rotation run not found');
  }
}

export class RunNotRetryableError extends DomainError {
  readonly kind = 'conflict';

  constructor(status: string) {
    super(`Only a failed run can be retried; this one is ${status}`);
  }
}

/** Another instance took the run over (our claim expired): stop working on it, quietly. */
export class ClaimLostError extends Error {
  constructor(runId: string) {
    super(`claim on rotation run ${runId} lost`);
  }
}
