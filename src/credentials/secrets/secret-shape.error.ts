import { FieldError } from '../../common/errors/error-body';
import { RequestValidationError } from '../../common/validation/request-validation.error';

/**
 * A secret that does not have the shape its credential type needs. Fields are named
 * `secret.<name>` (`secret` alone for the whole object). Messages say what is wrong and never
 * quote the input: a failure must not reveal any part of a secret, not even in a log.
 *
 * It is a RequestValidationError, so the global filter answers 400 with the fields listed.
 */
export class SecretShapeError extends RequestValidationError {
  constructor(readonly problems: FieldError[]) {
    super(problems);
  }

  /** One problem on one field (`field` without the `secret.` prefix; '' for the whole secret). */
  static single(field: string, error: string): SecretShapeError {
    return new SecretShapeError([{ field: secretField(field), errors: [error] }]);
  }
}

/** `secret.<field>`, or `secret` for the whole object. */
export function secretField(field: string): string {
  return field === '' ? 'secret' : `secret.${field}`;
}
