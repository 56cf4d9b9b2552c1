import { problemsOf } from './__fixtures__/problems-of';
import { ParsedSecret } from './parsed-secret';
import { parseApiKeySecret, parsePasswordSecret, parseSharedSecret } from './single-value-secrets';

const CASES: [string, (input: unknown) => ParsedSecret, string, number][] = [
  ['password', parsePasswordSecret, 'password', 4096],
  ['api key', parseApiKeySecret, 'apiKey', 4096],
  ['shared secret', parseSharedSecret, 'secret', 65536],
];

describe.each(CASES)('a %s secret', (_label, parse, field, max) => {
  it('should be kept exactly as given, spaces included, with nothing derived', () => {
    const input = { [field]: '  correct horse battery staple \n' };
    expect(parse(input)).toEqual({ value: input, derived: {} });
  });

  it(`should accept ${max} characters, counting an emoji once, and refuse one more`, () => {
    expect(parse({ [field]: '🔑'.repeat(max) }).value).toEqual({ [field]: '🔑'.repeat(max) });
    expect(problemsOf(() => parse({ [field]: 'a'.repeat(max + 1) }))).toEqual([
      { field: `secret.${field}`, errors: [`${field} must be at most ${max} characters`] },
    ]);
  });

  it('should refuse an empty, missing or non-string value', () => {
    expect(problemsOf(() => parse({ [field]: '' }))).toEqual([
      { field: `secret.${field}`, errors: [`${field} must not be empty`] },
    ]);
    expect(problemsOf(() => parse({}))).toEqual([
      { field: `secret.${field}`, errors: [`${field} is required`] },
    ]);
    expect(problemsOf(() => parse({ [field]: 12345 }))).toEqual([
      { field: `secret.${field}`, errors: [`${field} must be a string`] },
    ]);
  });

  it('should refuse an unknown field', () => {
    expect(problemsOf(() => parse({ [field]: 'x', note: 'y' }))).toEqual([
      {
        field: 'secret',
        errors: [`the secret has 1 unknown field; the allowed fields are ${field}`],
      },
    ]);
  });
});
