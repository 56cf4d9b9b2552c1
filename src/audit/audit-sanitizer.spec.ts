import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { REDACTED } from '../logging/redact';
import { MAX_DETAILS_CHARS, sanitizeDetails } from './audit-sanitizer';

const SENSITIVE_KEYS = [
  'password',
  'secret',
  'token',
  'apiKey',
  'privateKey',
  'clientSecret',
  'authorization',
  'refreshToken',
  'value',
  'passphrase',
  'connectionString',
];

const hmac = (value: string): string =>
  `hmac:${createHash('sha256').update(value).digest('hex').slice(0, 32)}`;

const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig';
const URL_SAFE = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const apiKeyArb = fc
  .string({ unit: fc.constantFrom(...URL_SAFE), minLength: 32, maxLength: 32 })
  .map((random) => `cus_abc123_${random}`);
const PEM =
  '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----';

/** `inner` wrapped in `depth` wrappers, alternately a list and an object (3 stay within the depth limit). */
function nest(inner: unknown, depth: number): Record<string, unknown> {
  let value: Record<string, unknown> = { here: inner };
  for (let i = 0; i < depth; i++) value = i % 2 ? { level: value } : { list: [value] };
  return value;
}

/** Details whose JSON text has exactly `total` characters, made of strings short enough to keep. */
function detailsOfLength(total: number): { list: string[] } {
  const details = { list: ['x'.repeat(1000)] };
  // Each further string of n characters adds `,"` + n + `"` to the text.
  while (JSON.stringify(details).length + 1003 <= total) details.list.push('x'.repeat(1000));
  details.list.push('y'.repeat(total - JSON.stringify(details).length - 3));
  return details;
}

function objectsDeep(levels: number): Record<string, unknown> {
  let value: Record<string, unknown> = { leaf: 'ok' };
  for (let i = 1; i < levels; i++) value = { n: value };
  return value;
}

describe('sanitizeDetails', () => {
  it.each(SENSITIVE_KEYS)('should redact %s at any depth', (key) => {
    const sut = sanitizeDetails(
      {
        [key]: 'top',
        nested: { [key]: { deeper: 'x' }, keep: 1 },
        list: [{ [key]: 42 }, { deeper: [{ [key]: ['y'] }] }],
      },
      hmac,
    );
    expect(sut).toEqual({
      [key]: REDACTED,
      nested: { [key]: REDACTED, keep: 1 },
      list: [{ [key]: REDACTED }, { deeper: [{ [key]: REDACTED }] }],
    });
  });

  it('should keep ordinary fields as they are', () => {
    const details = {
      method: 'POST',
      route: '/api/v1/credentials/:id',
      count: 3,
      ok: true,
      none: null,
      tags: ['a', 'b'],
    };
    expect(sanitizeDetails(details, hmac)).toEqual(details);
  });

  it.each(['email', 'username', 'Email', 'userName', 'user_name', 'login'])(
    'should replace the %s by its HMAC, at any depth',
    (key) => {
      const hmacSpy = jest.fn(hmac);
      const sut = sanitizeDetails({ [key]: 'ada@example.com', who: { [key]: 'grace' } }, hmacSpy);
      expect(sut).toEqual({ [key]: hmac('ada@example.com'), who: { [key]: hmac('grace') } });
      expect(hmacSpy.mock.calls).toEqual([['ada@example.com'], ['grace']]);
    },
  );

  it('should give the same HMAC for the same identifier, so events can be correlated', () => {
    const first = sanitizeDetails({ email: 'ada@example.com' }, hmac);
    const second = sanitizeDetails({ nested: { email: 'ada@example.com' } }, hmac);
    expect(first.email).toBe((second.nested as Record<string, unknown>).email);
    expect(JSON.stringify([first, second])).not.toContain('ada@example.com');
  });

  it.each([
    ['a JWT', JWT],
    ['a JWT in a sentence', `Bearer ${JWT} was refused`],
    ['a Custos API key', `cus_abc123_${'Ab3-_'.repeat(6)}xy`],
    ['a Custos API key in a sentence', `tried key cus_abc123_${'Zz9'.repeat(11)}, no luck`],
    ['a PEM block', PEM],
    ['a PEM block in a sentence', `uploaded: ${PEM}`],
  ])('should redact %s under any key, at any depth', (_, secret) => {
    const sut = sanitizeDetails(
      { note: secret, nested: { message: secret }, list: ['fine', secret] },
      hmac,
    );
    expect(sut).toEqual({
      note: REDACTED,
      nested: { message: REDACTED },
      list: ['fine', REDACTED],
    });
  });

  it('should redact any Custos API key, wherever it sits in a string', () => {
    fc.assert(
      fc.property(
        apiKeyArb,
        fc.constantFrom('', 'key ', 'x-api-key: ', '"', 'key='),
        fc.constantFrom('', ' ', ' and more', '"'),
        fc.integer({ min: 0, max: 3 }),
        (apiKey, before, after, depth) => {
          const sut = sanitizeDetails(nest(`${before}${apiKey}${after}`, depth), hmac);
          expect(JSON.stringify(sut)).not.toContain(apiKey);
          expect(JSON.stringify(sut)).toContain(REDACTED);
        },
      ),
    );
  });

  it('should redact a long string that hides a secret after the part that would be kept', () => {
    const sut = sanitizeDetails({ note: `${'x'.repeat(2000)} ${JWT}` }, hmac);
    expect(sut).toEqual({ note: REDACTED });
  });

  it('should keep a string of up to 1024 characters and cut a longer one to 1024 and an ellipsis', () => {
    expect(sanitizeDetails({ s: 'x'.repeat(1024) }, hmac)).toEqual({ s: 'x'.repeat(1024) });
    fc.assert(
      fc.property(fc.integer({ min: 1025, max: 10_000 }), (length) => {
        const sut = sanitizeDetails({ s: 'y'.repeat(length), list: ['z'.repeat(length)] }, hmac);
        expect(sut).toEqual({ s: `${'y'.repeat(1024)}…`, list: [`${'z'.repeat(1024)}…`] });
      }),
    );
  });

  it('should keep six levels of objects and replace the seventh by a marker', () => {
    expect(sanitizeDetails(objectsDeep(6), hmac)).toEqual(objectsDeep(6));
    expect(sanitizeDetails(objectsDeep(7), hmac)).toEqual({
      n: { n: { n: { n: { n: { n: '[too deep]' } } } } },
    });
  });

  it('should count arrays as levels too', () => {
    expect(sanitizeDetails({ a: [[[[[['deep']]]]]] }, hmac)).toEqual({
      a: [[[[['[too deep]']]]]],
    });
  });

  it('should keep the first 50 items of an array', () => {
    const items = Array.from({ length: 80 }, (_, i) => i);
    expect(sanitizeDetails({ items }, hmac)).toEqual({ items: items.slice(0, 50) });
    expect(sanitizeDetails({ items: items.slice(0, 50) }, hmac)).toEqual({
      items: items.slice(0, 50),
    });
  });

  it('should keep the first 50 fields of an object', () => {
    const details = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`f${i}`, i]));
    expect(Object.keys(sanitizeDetails(details, hmac))).toEqual(Object.keys(details).slice(0, 50));
  });

  it(`should replace details over ${MAX_DETAILS_CHARS} characters by their top-level keys`, () => {
    expect(MAX_DETAILS_CHARS).toBe(16 * 1024);
    const details = Object.fromEntries(
      Array.from({ length: 20 }, (_, i) => [`field${i}`, 'x'.repeat(1000)]),
    );
    expect(sanitizeDetails(details, hmac)).toEqual({
      truncated: true,
      keys: Object.keys(details),
    });
  });

  it(`should keep details of exactly ${MAX_DETAILS_CHARS} characters and no more`, () => {
    const exact = detailsOfLength(MAX_DETAILS_CHARS);
    const over = detailsOfLength(MAX_DETAILS_CHARS + 1);
    expect(JSON.stringify(exact)).toHaveLength(MAX_DETAILS_CHARS);
    expect(JSON.stringify(over)).toHaveLength(MAX_DETAILS_CHARS + 1);
    expect(sanitizeDetails(exact, hmac)).toEqual(exact);
    expect(sanitizeDetails(over, hmac)).toEqual({ truncated: true, keys: ['list'] });
  });

  it('should write dates as ISO text, drop undefined fields and keep other scalars', () => {
    expect(
      sanitizeDetails(
        { at: new Date('2026-01-02T03:04:05.006Z'), gone: undefined, n: 1.5, f: false, z: null },
        hmac,
      ),
    ).toEqual({ at: '2026-01-02T03:04:05.006Z', n: 1.5, f: false, z: null });
  });

  it('should not change the details it is given', () => {
    const details = { password: 'p', email: 'e@x', note: JWT, nested: { token: 't' } };
    const copy = structuredClone(details);
    sanitizeDetails(details, hmac);
    expect(details).toEqual(copy);
  });

  it('should never let a value under a sensitive key through, at any depth', () => {
    const shape = fc.constantFrom<(canary: string) => unknown>(
      (canary) => canary,
      (canary) => ({ inner: canary }),
      (canary) => [canary, { deeper: canary }],
    );
    fc.assert(
      fc.property(
        fc.constantFrom(...SENSITIVE_KEYS),
        fc.tuple(fc.uuid(), fc.string({ maxLength: 20 })),
        shape,
        fc.integer({ min: 0, max: 8 }),
        fc.dictionary(fc.constantFrom('note', 'id', 'route', 'count'), fc.string({ maxLength: 5 })),
        (key, [mark, tail], wrap, depth, siblings) => {
          const canary = `${mark}${tail}`;
          const sut = sanitizeDetails(nest({ ...siblings, [key]: wrap(canary) }, depth), hmac);
          expect(JSON.stringify(sut)).not.toContain(mark);
        },
      ),
    );
  });
});

describe('sanitizeDetails on keys and identifiers', () => {
  const hmac = (value: string) => `hmac:${value.length}`;

  it('should redact a secret used as a key', () => {
    const sut = sanitizeDetails({ 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig': 1 }, hmac);
    expect(JSON.stringify(sut)).not.toContain('eyJhbGciOiJIUzI1NiJ9');
  });

  it('should stay within the size limit even when keys are huge', () => {
    const huge = Object.fromEntries(
      Array.from({ length: 40 }, (_, i) => [`${i}${'k'.repeat(20_000)}`, 1]),
    );
    expect(JSON.stringify(sanitizeDetails(huge, hmac)).length).toBeLessThanOrEqual(16 * 1024);
  });

  it('should hash identifiers under any e-mail or user name key, in lists too', () => {
    const sut = sanitizeDetails(
      { userEmail: 'a@b.c', emailAddress: 'x@y.z', email: ['p@q.r'], login: 'ada' },
      hmac,
    );
    expect(JSON.stringify(sut)).not.toMatch(/a@b\.c|x@y\.z|p@q\.r|ada/);
  });

  it('should redact a Custos API key glued to other text', () => {
    const sut = sanitizeDetails({ note: `key_cus_abc123_${'A'.repeat(32)}` }, hmac);
    expect(JSON.stringify(sut)).not.toContain('A'.repeat(32));
  });
});
