import { PipeTransform } from '@nestjs/common';
import { RequestValidationError } from './request-validation.error';

/**
 * For a list that takes no parameters (`@Query(NO_QUERY_PARAMETERS)`): any query parameter is
 * refused like an unknown field, as lists with a query DTO do, instead of being ignored.
 */
export const NO_QUERY_PARAMETERS: PipeTransform<unknown, undefined> = {
  transform(value: unknown): undefined {
    const names = value !== null && typeof value === 'object' ? Object.keys(value) : [];
    if (names.length > 0) {
      throw new RequestValidationError(
        names.map((field) => ({ field, errors: [`property ${field} should not exist`] })),
      );
    }
    return undefined;
  },
};
