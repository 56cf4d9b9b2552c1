import { DomainError } from '../common/errors/domain-error';

export class WebhookNotFoundError extends DomainError {
  readonly kind = 'not_found';

  constructor(what = 'Webhook') {
    super(`${what} not found`);
  }
}

/** A delivery still on its way cannot be sent again beside itself. */
export class DeliveryInFlightError extends DomainError {
  readonly kind = 'conflict';

  constructor(status: string) {
    super(`Only a succeeded or dead delivery can be redelivered; this one is ${status}`);
  }
}
