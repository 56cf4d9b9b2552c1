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
