import { PipeTransform } from '@nestjs/common';
import { pathProblem } from '../../auth/grants/path-pattern';
import { RequestValidationError } from '../../common/validation/request-validation.error';

/** A credential path from the URL; anything malformed is a 400 before any lookup. */
export const CREDENTIAL_PATH: PipeTransform<unknown, string> = {
  transform(value: unknown): string {
    const problem = pathProblem(value);
    if (problem) throw new RequestValidationError([{ field: 'path', errors: [problem] }]);
    return value as string;
  },
};
