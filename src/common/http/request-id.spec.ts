import type { IncomingMessage } from 'node:http';
import fc from 'fast-check';
import { REQUEST_ID_HEADER, requestIdFor } from './request-id';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function requestWith(value?: string | string[]): IncomingMessage {
  const headers: IncomingMessage['headers'] = {};
  if (value !== undefined) (headers as Record<string, unknown>)[REQUEST_ID_HEADER] = value;
  return { headers } as IncomingMessage;
}

describe('requestIdFor', () => {
  it.each([
    'abc-123',
    'a',
    '0f0e8b9c-4d2a-4b8e-9a51-5d1f0c9a7e33',
    'svc.gateway:req_42@eu-west-1',
    'x'.repeat(128),
  ])('should keep the sane header %j', (given) => {
    expect(requestIdFor(requestWith(given))).toBe(given);
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['too long (129 characters)', 'x'.repeat(129)],
    ['containing a space', 'abc 123'],
    ['containing a newline', 'abc\n123'],
    ['containing a carriage return', 'abc\r\nX-Injected: 1'],
    ['ending in a newline', 'abc123\n'],
    ['containing <', '<script>'],
    ['containing a quote', 'abc"123'],
    ['non-ASCII', 'abcé'],
    ['an array', ['abc', 'def']],
  ])('should make a fresh UUID v4 when the header is %s', (_case, given) => {
    const sut = requestIdFor(requestWith(given));
    expect(sut).toMatch(UUID_V4);
    expect(sut).not.toBe(given);
  });

  it('should make a different id for each request without a usable header', () => {
    const ids = new Set(Array.from({ length: 50 }, () => requestIdFor(requestWith())));
    expect(ids.size).toBe(50);
  });

  it('should only ever return a short, plain id', () => {
    fc.assert(
      fc.property(fc.option(fc.string({ maxLength: 200 }), { nil: undefined }), (given) => {
        const sut = requestIdFor(requestWith(given));
        expect(sut).toMatch(/^[A-Za-z0-9._:@-]{1,128}$/);
        if (sut !== given) expect(sut).toMatch(UUID_V4);
      }),
    );
  });
});
