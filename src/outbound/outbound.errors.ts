import { DomainError } from '../common/errors/domain-error';

/**
 * An outbound call this instance will not make (DESIGN.md §4 invariant 8): a scheme, host or
 * address the configuration does not allow. A 400 where a person gave the URL; at delivery time it
 * fails the delivery like any other error. The message names the host or address, never a body.
 */
export class OutboundRefusedError extends DomainError {
  readonly kind = 'invalid';

  constructor(reason: string) {
    super(`Outbound call refused: ${reason}`);
  }
}

/** An outbound call that went out and failed: timeout, TLS, connection, oversized answer. */
export class OutboundRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OutboundRequestError';
  }
}
