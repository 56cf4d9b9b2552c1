import { FieldError } from '../../../common/errors/error-body';
import { SecretShapeError } from '../secret-shape.error';

/** The problems of the SecretShapeError `action` throws; fails the test if it throws nothing else. */
export function problemsOf(action: () => unknown): FieldError[] {
  try {
    action();
  } catch (error) {
    if (error instanceof SecretShapeError) return error.problems;
    throw error;
  }
  throw new Error('expected a SecretShapeError, but nothing was thrown');
}
