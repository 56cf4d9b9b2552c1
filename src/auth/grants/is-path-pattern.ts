import { ValidateBy, ValidationOptions } from 'class-validator';
import { pathPatternProblem } from './path-pattern';

export const PATH_PATTERN_HELP =
  "Lower-case segments of a-z, 0-9, '.', '_', '-' joined by '/'; a segment may be '*' (exactly one segment) and the last may be '**' (one or more segments).";

/** A path pattern (`acme/prod/*`, `acme/**`); the message says what is wrong with it. */
export function IsPathPattern(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isPathPattern',
      validator: {
        validate: (value: unknown) => pathPatternProblem(value) === undefined,
        defaultMessage: (args) =>
          `${args?.property ?? 'pathPattern'} is not a valid path pattern: ${
            pathPatternProblem(args?.value) ?? 'invalid'
          }`,
      },
    },
    options,
  );
}
