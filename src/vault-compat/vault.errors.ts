import { DomainError } from '../common/errors/domain-error';

/** A mount that VAULT_COMPAT_MOUNTS does not name, or a route Vault has no handler for. */
export class VaultNoHandlerError extends DomainError {
  readonly kind = 'not_found';

  constructor() {
    super('no handler for route');
  }
}

/** Something Custos cannot map onto its own model; the message says what to do instead. */
export class VaultUnsupportedError extends DomainError {
  readonly kind = 'invalid';
}

/** A route the caller's role does not open (the native route's @Roles). */
export class VaultRoleRequiredError extends DomainError {
  readonly kind = 'forbidden';

  constructor(role: string) {
    super(`This needs the role ${role}`);
  }
}

/**
 * No grant gives the caller this capability on the path, whether or not a credential is there:
 * Vault's answer, which tells nothing of what exists (the native routes answer 404 instead).
 */
export class VaultPermissionDeniedError extends DomainError {
  readonly kind = 'forbidden';

  constructor() {
    super('permission denied');
  }
}

/**
 * A write to a soft-deleted secret. Vault would add a version and leave the deleted ones deleted;
 * Custos deletes a credential as a whole and brings it back only as a whole (restore, `delete`).
 */
export class VaultSecretDeletedError extends DomainError {
  readonly kind = 'conflict';

  constructor() {
    super(
      'this secret is deleted: undelete it (POST /v1/<mount>/undelete/<path>) before writing a ' +
        'new version, or destroy it to start again',
    );
  }
}
