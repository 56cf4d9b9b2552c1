import { problemsOf } from './__fixtures__/problems-of';
import { optional, readSecret, SecretProblems, text } from './secret-fields';
import { SecretShapeError } from './secret-shape.error';

const RULES = {
  name: text({ maxChars: 5 }),
  note: optional(text({ maxChars: 5 })),
  blob: optional(text({ maxBytes: 1024 })),
};

describe('readSecret', () => {
  it('should return the fields in the order of the rules, exactly as given', () => {
    expect(Object.keys(readSecret({ blob: 'b', note: ' n ', name: ' a\t' }, RULES))).toEqual([
      'name',
      'note',
      'blob',
    ]);
    expect(readSecret({ name: ' a\t', note: ' n ' }, RULES)).toEqual({ name: ' a\t', note: ' n ' });
  });

  it.each([
    ['null', null],
    ['an array', ['a']],
    ['a string', 'secret'],
    ['a number', 42],
    ['a Date', new Date(0)],
    ['undefined', undefined],
  ])('should refuse %s as the secret, on the field secret', (_label, input) => {
    expect(problemsOf(() => readSecret(input, RULES))).toEqual([
      { field: 'secret', errors: ['the secret must be a JSON object'] },
    ]);
  });

  it('should accept an object without a prototype', () => {
    const input = Object.assign(Object.create(null) as Record<string, unknown>, { name: 'a' });
    expect(readSecret(input, RULES)).toEqual({ name: 'a' });
  });

  it('should count unknown fields without naming them, and list the allowed ones', () => {
    const input = JSON.parse('{"name":"a","hunter2":1,"__proto__":{}}') as unknown;
    expect(problemsOf(() => readSecret(input, RULES))).toEqual([
      {
        field: 'secret',
        errors: ['the secret has 2 unknown fields; the allowed fields are name, note, blob'],
      },
    ]);
  });

  it('should report a missing required field, and leave out an optional one that is null', () => {
    expect(problemsOf(() => readSecret({ note: 'x' }, RULES))).toEqual([
      { field: 'secret.name', errors: ['name is required'] },
    ]);
    expect(readSecret({ name: 'a', note: null }, RULES)).toEqual({ name: 'a' });
  });

  it('should refuse a value that is not a string, or is empty', () => {
    expect(problemsOf(() => readSecret({ name: 1, note: '' }, RULES))).toEqual([
      { field: 'secret.name', errors: ['name must be a string'] },
      { field: 'secret.note', errors: ['note must not be empty'] },
    ]);
  });

  it('should count characters as code points, so that an emoji counts once', () => {
    expect(readSecret({ name: '😀😀😀😀😀' }, RULES)).toEqual({ name: '😀😀😀😀😀' });
    expect(problemsOf(() => readSecret({ name: '😀😀😀😀😀😀' }, RULES))).toEqual([
      { field: 'secret.name', errors: ['name must be at most 5 characters'] },
    ]);
  });

  it('should count a byte limit in UTF-8', () => {
    expect(readSecret({ name: 'a', blob: 'é'.repeat(512) }, RULES).blob).toHaveLength(512);
    expect(problemsOf(() => readSecret({ name: 'a', blob: 'é'.repeat(513) }, RULES))).toEqual([
      { field: 'secret.blob', errors: ['blob must be at most 1 KiB'] },
    ]);
  });

  it('should refuse a string with an unpaired surrogate, which UTF-8 cannot hold', () => {
    expect(problemsOf(() => readSecret({ name: 'a\uD800b' }, RULES))).toEqual([
      {
        field: 'secret.name',
        errors: ['name must be well-formed Unicode (it holds an unpaired surrogate)'],
      },
    ]);
  });
});

describe('SecretProblems', () => {
  it('should group errors by field and throw them all at once', () => {
    const sut = new SecretProblems();
    sut.add('a', 'first');
    sut.add('', 'whole');
    sut.add('a', 'second');
    expect(() => sut.throwIfAny()).toThrow(SecretShapeError);
    expect(problemsOf(() => sut.throwIfAny())).toEqual([
      { field: 'secret.a', errors: ['first', 'second'] },
      { field: 'secret', errors: ['whole'] },
    ]);
  });

  it('should return the value when nothing was found', () => {
    expect(new SecretProblems().orThrow(3)).toBe(3);
  });
});
