import { ValidateBy, ValidationOptions } from 'class-validator';
import { pathProblem } from '../../auth/grants/path-pattern';

/** A credential path (`acme/prod/mysql-root`); the message says what is wrong with it. */
export function IsCredentialPath(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isCredentialPath',
      validator: {
        validate: (value: unknown) => pathProblem(value) === undefined,
        defaultMessage: (args) =>
          `${args?.property ?? 'path'} is not a valid path: ${pathProblem(args?.value) ?? 'invalid'}`,
      },
    },
    options,
  );
}

export const METADATA_MAX_BYTES = 8192;
const METADATA_MAX_DEPTH = 5;

function depthOf(value: unknown): number {
  if (value === null || typeof value !== 'object') return 0;
  const children = Object.values(value as Record<string, unknown>);
  return 1 + (children.length ? Math.max(...children.map(depthOf)) : 0);
}

/** A plain JSON object of bounded size and depth: the free-form metadata of a credential. */
export function IsSmallJsonObject(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isSmallJsonObject',
      validator: {
        validate: (value: unknown) =>
          value !== null &&
          typeof value === 'object' &&
          !Array.isArray(value) &&
          Buffer.byteLength(JSON.stringify(value)) <= METADATA_MAX_BYTES &&
          depthOf(value) <= METADATA_MAX_DEPTH,
        defaultMessage: (args) =>
          `${args?.property ?? 'metadata'} must be a JSON object of at most ${METADATA_MAX_BYTES} bytes and ${METADATA_MAX_DEPTH} levels`,
      },
    },
    options,
  );
}
