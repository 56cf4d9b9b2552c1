import { ValidationError } from 'class-validator';
import { DomainError } from '../errors/domain-error';
import { FieldError } from '../errors/error-body';

export class RequestValidationError extends DomainError {
  readonly kind = 'invalid';

  constructor(readonly fields: FieldError[]) {
    super(
      `Validation failed: ${fields.map((f) => `${f.field} (${f.errors.join('; ')})`).join(', ')}`,
    );
  }

  static fromValidationErrors(errors: ValidationError[]): RequestValidationError {
    return new RequestValidationError(flatten(errors, ''));
  }
}

function flatten(errors: ValidationError[], prefix: string): FieldError[] {
  return errors.flatMap((error) => {
    const field = (prefix ? `${prefix}.${error.property}` : error.property) || '(body)';
    const own = error.constraints ? [{ field, errors: Object.values(error.constraints) }] : [];
    return [...own, ...flatten(error.children ?? [], field)];
  });
}
