import { DomainError } from '../../common/errors/domain-error';

/** The instance is shutting down: the client connects again, to this or another instance. */
export class EventStreamClosingError extends DomainError {
  readonly kind = 'unavailable';

  constructor() {
    super('The event stream of this instance is shutting down; connect again');
  }
}
