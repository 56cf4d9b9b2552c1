import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

/**
 * Keys derived from the master key for one purpose each, so that no module uses the master key
 * itself and a key leaked from one purpose says nothing about another.
 */
export type KeyPurpose =
  'key-check' | 'audit-chain' | 'audit-checkpoint' | 'fingerprint' | 'totp' | 'jwt' | 'webhook';

const HKDF_SALT = Buffer.from('custos/hkdf/v1');
export const MASTER_KEY_BYTES = 32;

export function derivePurposeKey(masterKey: Buffer, purpose: KeyPurpose): Buffer {
  if (masterKey.length !== MASTER_KEY_BYTES) {
    throw new Error(`master key must be ${MASTER_KEY_BYTES} bytes`);
  }
  return Buffer.from(hkdfSync('sha256', masterKey, HKDF_SALT, `custos/${purpose}/v1`, 32));
}

const CHECK_LABEL = 'custos key check v1';

/** A value that identifies the key without revealing it: HMAC of a label under a derived key. */
export function computeCheckValue(masterKey: Buffer): string {
  return createHmac('sha256', derivePurposeKey(masterKey, 'key-check'))
    .update(CHECK_LABEL)
    .digest('base64');
}

export function checkValueMatches(masterKey: Buffer, stored: string): boolean {
  const expected = Buffer.from(computeCheckValue(masterKey));
  const actual = Buffer.from(stored);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
