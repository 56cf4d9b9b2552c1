import { DomainError } from '../../common/errors/domain-error';

/** GET of a credential's policy when neither its own nor a path-pattern policy applies. */
export class NoRotationPolicyError extends DomainError {
  readonly kind = 'not_found';

  constructor() {
    super(
      'No rotation policy applies to this credential: PUT /api/v1/credentials/{id}/rotation gives it one, PUT /api/v1/rotation-policies one for its path',
    );
  }
}

/** DELETE of a credential's own policy when it has none (a pattern policy may still apply). */
export class NoOwnRotationPolicyError extends DomainError {
  readonly kind = 'not_found';

  constructor() {
    super('This credential has no rotation policy of its own to delete');
  }
}

export class RotationPolicyNotFoundError extends DomainError {
  readonly kind = 'not_found';

  constructor() {
    super('Rotation policy not found');
  }
}
