import { DomainError } from '../common/errors/domain-error';

/** The one answer to a failed login, whatever failed: unknown e-mail, wrong password, locked or disabled. */
export class InvalidCredentialsError extends DomainError {
  readonly kind = 'unauthenticated';

  constructor() {
    super('Invalid email or password');
  }
}

export class InvalidTokenError extends DomainError {
  readonly kind = 'unauthenticated';

  constructor(message = 'Invalid or expired token') {
    super(message);
  }
}

export class ForbiddenError extends DomainError {
  readonly kind = 'forbidden';
}

export class UserNotFoundError extends DomainError {
  readonly kind = 'not_found';

  constructor() {
    super('User not found');
  }
}

export class ConflictError extends DomainError {
  readonly kind = 'conflict';
}
