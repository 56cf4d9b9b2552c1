import fc from 'fast-check';
import { InvalidIfMatchError } from './credential.errors';
import { parseIfMatch } from './secret-versions.service';

describe('parseIfMatch', () => {
  it('should answer undefined when there is no header', () => {
    expect(parseIfMatch(undefined)).toBeUndefined();
  });

  it.each([
    ['a bare number', '3', 3],
    ['a quoted number', '"3"', 3],
    ['a weak entity tag', 'W/"3"', 3],
    ['a number with surrounding spaces', '  7\t', 7],
    ['a quoted number with surrounding spaces', ' "12" ', 12],
    ['leading zeros', '007', 7],
    ['zero', '0', 0],
    ['ten digits', '2147483647', 2_147_483_647],
  ])('should read %s', (_case, header, expected) => {
    expect(parseIfMatch(header)).toBe(expected);
  });

  it('should read back any version number in every accepted form', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2_147_483_647 }), (version) => {
        expect(parseIfMatch(String(version))).toBe(version);
        expect(parseIfMatch(`"${version}"`)).toBe(version);
        expect(parseIfMatch(`W/"${version}"`)).toBe(version);
      }),
    );
  });

  it.each([
    ['an empty header', ''],
    ['only spaces', '   '],
    ['a word', 'abc'],
    ['a negative number', '-1'],
    ['a decimal', '1.5'],
    ['an exponent', '1e3'],
    ['a hexadecimal number', '0x10'],
    ['more than ten digits', '12345678901'],
    ['a list of entity tags', '"3", "4"'],
    ['a quoted string that is not a number', '"v3"'],
    ['a lower-case weak prefix', 'w/"3"'],
    ['a number and more', '3; drop table'],
    ['an opening quote only', '"3'],
    ['a closing quote only', '3"'],
    ['a weak prefix without quotes', 'W/3'],
  ])('should refuse %s with InvalidIfMatchError', (_case, header) => {
    expect(() => parseIfMatch(header)).toThrow(InvalidIfMatchError);
  });

  it('should say what an If-Match header must hold', () => {
    expect(() => parseIfMatch('latest')).toThrow(
      'If-Match must be a version number, e.g. 3 or "3"',
    );
  });
});
