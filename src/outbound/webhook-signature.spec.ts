import { createHmac } from 'node:crypto';
import { signatureHeader, verifySignature } from './webhook-signature';

const KEY = 'whsec_test-key';
const BODY = '{"deliveryId":"d1","value":"s3cr3t"}';
const AT = new Date('2026-11-30T10:00:00.000Z');

describe('webhook signature', () => {
  it('should sign "<t>.<body>" with HMAC-SHA256 under the key, hex', () => {
    const t = AT.getTime() / 1000;
    const expected = createHmac('sha256', KEY).update(`${t}.${BODY}`).digest('hex');
    expect(signatureHeader(KEY, BODY, AT)).toBe(`t=${t},v1=${expected}`);
  });

  it('should verify its own signature within the tolerance', () => {
    const header = signatureHeader(KEY, BODY, AT);
    expect(verifySignature(header, KEY, BODY, 300, new Date(AT.getTime() + 299_000))).toBe(true);
  });

  it.each([
    ['another body', (h: string) => verifySignature(h, KEY, `${BODY} `, 300, AT)],
    ['another key', (h: string) => verifySignature(h, `${KEY}x`, BODY, 300, AT)],
    [
      'a stale timestamp',
      (h: string) => verifySignature(h, KEY, BODY, 300, new Date(AT.getTime() + 301_000)),
    ],
    [
      'a timestamp moved forward',
      (h: string) =>
        verifySignature(
          h.replace(/t=(\d+)/, (_m, t) => `t=${Number(t) + 1}`),
          KEY,
          BODY,
          300,
          AT,
        ),
    ],
    ['a truncated signature', (h: string) => verifySignature(h.slice(0, -2), KEY, BODY, 300, AT)],
    ['no signature', () => verifySignature('t=1', KEY, BODY, 300, AT)],
    ['garbage', () => verifySignature('nonsense', KEY, BODY, 300, AT)],
  ])('should refuse %s', (_case, check) => {
    expect(check(signatureHeader(KEY, BODY, AT))).toBe(false);
  });
});
