import { DomainError } from '../../common/errors/domain-error';
import type { GrantPrincipalType } from './access-grant.entity';

export class GrantNotFoundError extends DomainError {
  readonly kind = 'not_found';

  constructor() {
    super('Grant not found');
  }
}

/** The user or service account a grant would be given to does not exist. */
export class GrantPrincipalNotFoundError extends DomainError {
  readonly kind = 'not_found';

  constructor(principalType: GrantPrincipalType) {
    super(principalType === 'user' ? 'User not found' : 'Service account not found');
  }
}

export class InvalidPathPatternError extends DomainError {
  readonly kind = 'invalid';

  constructor(problem: string) {
    super(`Invalid pathPattern: ${problem}`);
  }
}

export class InvalidCapabilitiesError extends DomainError {
  readonly kind = 'invalid';

  constructor(problem: string) {
    super(`Invalid capabilities: ${problem}`);
  }
}
