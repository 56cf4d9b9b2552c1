import { DomainError } from '../common/errors/domain-error';

/** The key to rotate to is missing, ambiguous, or not configured on this instance. */
export class KeyRotationTargetError extends DomainError {
  readonly kind = 'invalid';
}
