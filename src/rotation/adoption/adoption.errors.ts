import { DomainError } from '../../common/errors/domain-error';

/** Only a rotation that switched to a new version has an adoption to report. */
export class RotationNotSucceededError extends DomainError {
  readonly kind = 'conflict';

  constructor(status: string) {
    super(`Only a succeeded rotation has adoption to report; this one is ${status}`);
    this.details = { status };
  }
}
