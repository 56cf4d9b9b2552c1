import { createHmac, timingSafeEqual } from 'node:crypto';
import { clock } from '../common/clock';

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` */
export const SIGNATURE_HEADER = 'x-custos-signature';
/** One id per delivery; the same on a repeated attempt, so a receiver can drop repeats. */
export const DELIVERY_HEADER = 'x-custos-delivery';
/** What the delivery is about (`rotation.succeeded`, `rotation.apply`…). */
export const EVENT_HEADER = 'x-custos-event';

/**
 * The signature header of one webhook body, for the rotator and the subscriptions alike (one
 * scheme for receivers to check). The timestamp is signed with the body, so a captured delivery
 * replayed later fails a receiver's freshness check; the key is the raw UTF-8 of the secret.
 */
export function signatureHeader(key: string, body: string, at: Date = clock.date()): string {
  const t = Math.floor(at.getTime() / 1000);
  return `t=${t},v1=${hmac(key, t, body)}`;
}

/**
 * What a receiver does (README, "Webhook subscriptions"): true when the header carries a `v1`
 * signature of this body under this key and its timestamp is within `toleranceSeconds` of now.
 */
export function verifySignature(
  header: string,
  key: string,
  body: string,
  toleranceSeconds = 300,
  now: Date = clock.date(),
): boolean {
  const parts = new Map(
    header.split(',').map((part) => {
      const at = part.indexOf('=');
      return [part.slice(0, at).trim(), part.slice(at + 1).trim()] as const;
    }),
  );
  const t = Number(parts.get('t'));
  const given = parts.get('v1');
  if (!Number.isInteger(t) || !given || !/^[0-9a-f]{64}$/.test(given)) return false;
  if (Math.abs(now.getTime() / 1000 - t) > toleranceSeconds) return false;
  return timingSafeEqual(Buffer.from(given, 'hex'), Buffer.from(hmac(key, t, body), 'hex'));
}

function hmac(key: string, t: number, body: string): string {
  return createHmac('sha256', key).update(`${t}.${body}`, 'utf8').digest('hex');
}
