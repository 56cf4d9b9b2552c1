import type { GeneratorSpec } from './generator-spec';

/** The secret field a generated value goes into, for the types the generator can make. */
export const GENERATED_FIELD: Readonly<Record<string, string>> = {
  password: 'password',
  api_key: 'apiKey',
  shared_secret: 'secret',
};

/** Used when a `generated` policy gives no generator spec. */
export const DEFAULT_GENERATOR: Readonly<Record<string, GeneratorSpec>> = {
  password: { format: 'password', length: 32, classes: ['lower', 'upper', 'digits', 'symbols'] },
  api_key: { format: 'api_key', length: 40 },
  shared_secret: { format: 'base64url', length: 43 },
};
