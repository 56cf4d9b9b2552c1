import fc from 'fast-check';
import { isSensitiveKey, REDACTED, redactDeep } from './redact';

describe('redactDeep', () => {
  it('should replace sensitive fields at any depth', () => {
    const sut = redactDeep({
      user: 'ada',
      password: 'hunter2',
      nested: { apiKey: 'k', deeper: [{ privateKey: 'pk', clientSecret: 's', note: 'ok' }] },
      headers: { authorization: 'Bearer t', cookie: 'c', 'x-api-key': 'cus_x' },
      value: 'plain',
    });
    expect(sut).toEqual({
      user: 'ada',
      password: REDACTED,
      nested: {
        apiKey: REDACTED,
        deeper: [{ privateKey: REDACTED, clientSecret: REDACTED, note: 'ok' }],
      },
      headers: { authorization: REDACTED, cookie: REDACTED, 'x-api-key': REDACTED },
      value: REDACTED,
    });
  });

  it('should keep ordinary identifiers readable', () => {
    for (const key of ['id', 'credentialId', 'path', 'requestId', 'statusCode', 'method', 'url']) {
      expect(isSensitiveKey(key)).toBe(false);
    }
  });

  it('should survive cycles', () => {
    const input: Record<string, unknown> = { a: 1 };
    input.self = input;
    expect(redactDeep(input)).toEqual({ a: 1, self: '[Circular]' });
  });

  it('should never let a value under a sensitive key through', () => {
    const sensitive = fc.constantFrom(
      'password',
      'refreshToken',
      'secret',
      'apiKey',
      'authorization',
      'totpSecret',
    );
    fc.assert(
      fc.property(
        sensitive,
        fc.string({ minLength: 8 }),
        fc.integer({ min: 0, max: 4 }),
        (key, secret, depth) => {
          let object: Record<string, unknown> = { [key]: secret };
          for (let i = 0; i < depth; i++) object = { level: object, list: [object] };
          expect(JSON.stringify(redactDeep(object))).not.toContain(JSON.stringify(secret));
        },
      ),
    );
  });
});
