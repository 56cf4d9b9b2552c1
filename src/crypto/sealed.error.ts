import { DomainError } from '../common/errors/domain-error';

export class SealedError extends DomainError {
  readonly kind = 'unavailable';

  constructor(readonly reason: string) {
    super(`Custos is sealed: ${reason}`);
  }
}

/**
 * Data written under a master key this instance does not hold: during a rotation every
 * instance must be given every key still in use.
 */
export class KeyUnavailableError extends DomainError {
  readonly kind = 'unavailable';

  constructor(readonly keyId: string) {
    super(`Master key "${keyId}" is not configured on this instance`);
  }
}
