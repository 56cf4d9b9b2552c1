import { DomainError } from '../common/errors/domain-error';

export class SealedError extends DomainError {
  readonly kind = 'unavailable';

  constructor(readonly reason: string) {
    super(`Custos is sealed: ${reason}`);
  }
}
