import { regexLimits } from './openapi-conventions';

describe('regexLimits', () => {
  it.each([
    [/^\d{6}$/, 6],
    [/^crt_[A-Za-z0-9_-]{43}$/, 47],
    [/^[a-z0-9][a-z0-9-]{0,31}$/, 32],
    [/^(0|[1-9][0-9]{0,18})$/, 19],
    [/^([01]\d|2[0-3]):([0-5]\d)$/, 5],
    [/^(?:ab|c)?x$/, 3],
    [/^[A-Za-z0-9+/]{1,126}={0,2}$/, 128],
  ])('should bound %s at %i characters', (pattern, maxLength) => {
    expect(regexLimits(pattern)).toEqual({ pattern: pattern.source, maxLength });
  });

  it.each([/^a+$/, /^a*b$/, /^\w{3,}$/, /abc/, /^(?=a)a$/])(
    'should give only the pattern of %s, whose matches have no bound it can read',
    (pattern) => {
      expect(regexLimits(pattern)).toEqual({ pattern: pattern.source });
    },
  );

  it('should leave out a pattern with flags other than u, which JSON Schema cannot say', () => {
    expect(regexLimits(/^abc$/i)).toBeUndefined();
  });
});
