import { DomainError } from '../common/errors/domain-error';
import type { Capability } from '../common/auth/access-vocabulary';

/** Missing, deleted, or not readable by the caller: the same answer for all three (§4.5). */
export class CredentialNotFoundError extends DomainError {
  readonly kind = 'not_found';

  constructor() {
    super('Credential not found');
  }
}

/** The caller may read the credential's metadata but not do this to it. */
export class CapabilityRequiredError extends DomainError {
  readonly kind = 'forbidden';

  constructor(capability: Capability) {
    super(`This needs the '${capability}' capability on the credential's path`);
  }
}

export class CredentialPathTakenError extends DomainError {
  readonly kind = 'conflict';

  constructor() {
    super('A credential with this path exists (it may be deleted: restore or destroy it first)');
  }
}

export class CredentialStateError extends DomainError {
  readonly kind = 'conflict';
}

/** `If-Match` named another version than the current one: someone changed the secret meanwhile. */
export class VersionMismatchError extends DomainError {
  readonly kind = 'precondition_failed';

  constructor(expected: string, current: number) {
    super(`If-Match is ${expected} but the current version is ${current}`);
  }
}

export class InvalidIfMatchError extends DomainError {
  readonly kind = 'invalid';

  constructor() {
    super('If-Match must be a version number, e.g. 3 or "3"');
  }
}

export class VersionNotFoundError extends DomainError {
  readonly kind = 'not_found';

  constructor(version: number) {
    super(`Version ${version} not found`);
  }
}

/** Only the current version and a previous one still in its grace period can be revealed. */
export class VersionNotRevealableError extends DomainError {
  readonly kind = 'conflict';

  constructor(version: number, state: string) {
    super(`Version ${version} is ${state} and cannot be revealed`);
  }
}

export class RevealReasonRequiredError extends DomainError {
  readonly kind = 'invalid';

  constructor(use?: string) {
    super(`A reason is required to reveal a secret${use ? `: use ${use}` : ''}`);
  }
}
