import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Envelope encryption of one secret version: a fresh 256-bit data key (DEK) per version encrypts
 * the value with AES-256-GCM (96-bit random nonce, 16-byte tag); the DEK is itself encrypted
 * ("wrapped") with AES-256-GCM under the master key (KEK). Both layers authenticate the same
 * binding (credential id, version, KEK id), so a ciphertext or a wrapped key copied to another
 * version, credential or key id fails to decrypt instead of yielding someone else's secret.
 */
export interface EnvelopeBinding {
  credentialId: string;
  version: number;
  kekId: string;
}

export interface Kek {
  id: string;
  key: Buffer;
}

export interface SealedSecret {
  ciphertext: Buffer;
  iv: Buffer;
  tag: Buffer;
  /** nonce (12) || tag (16) || encrypted DEK (32) */
  wrappedDek: Buffer;
  kekId: string;
}

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
export const WRAPPED_DEK_BYTES = IV_BYTES + TAG_BYTES + KEY_BYTES;

export function encryptSecret(
  kek: Kek,
  plaintext: Buffer,
  binding: Omit<EnvelopeBinding, 'kekId'>,
): SealedSecret {
  assertKey(kek.key);
  const full = { ...binding, kekId: kek.id };
  const dek = randomBytes(KEY_BYTES);
  try {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', dek, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(aad('value', full));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return {
      ciphertext,
      iv,
      tag: cipher.getAuthTag(),
      wrappedDek: wrap(kek.key, dek, full),
      kekId: kek.id,
    };
  } finally {
    dek.fill(0);
  }
}

/** Throws on any change to any part, on the wrong KEK, or on a binding that is not the original. */
export function decryptSecret(
  kek: Kek,
  sealed: SealedSecret,
  binding: Omit<EnvelopeBinding, 'kekId'>,
): Buffer {
  assertKey(kek.key);
  if (sealed.kekId !== kek.id)
    throw new Error(`secret is wrapped by key "${sealed.kekId}", not "${kek.id}"`);
  const full = { ...binding, kekId: kek.id };
  const dek = unwrap(kek.key, sealed.wrappedDek, full);
  try {
    if (sealed.iv.length !== IV_BYTES || sealed.tag.length !== TAG_BYTES)
      throw new Error('malformed envelope');
    const decipher = createDecipheriv('aes-256-gcm', dek, sealed.iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(aad('value', full));
    decipher.setAuthTag(sealed.tag);
    return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]);
  } finally {
    dek.fill(0);
  }
}

/**
 * Moves a data key from one KEK to another (master-key rotation): the value itself is never
 * decrypted or re-encrypted, only its 32-byte key is unwrapped and wrapped again.
 */
export function rewrapDek(
  from: Kek,
  to: Kek,
  wrappedDek: Buffer,
  binding: Omit<EnvelopeBinding, 'kekId'>,
): { wrappedDek: Buffer; kekId: string } {
  assertKey(from.key);
  assertKey(to.key);
  const dek = unwrap(from.key, wrappedDek, { ...binding, kekId: from.id });
  try {
    return { wrappedDek: wrap(to.key, dek, { ...binding, kekId: to.id }), kekId: to.id };
  } finally {
    dek.fill(0);
  }
}

/**
 * What each layer authenticates. The wrapped data key names credential, version and KEK id; the
 * value names credential and version only, because a master-key rotation re-wraps the data key
 * under a new KEK id without touching the value. The value is tied to the KEK through its data
 * key, which only that KEK (and that binding) can unwrap.
 */
function aad(layer: 'value' | 'dek', binding: EnvelopeBinding): Buffer {
  const parts =
    layer === 'value'
      ? [binding.credentialId, binding.version]
      : [binding.credentialId, binding.version, binding.kekId];
  return Buffer.from(JSON.stringify(['custos-envelope-v1', layer, ...parts]));
}

function wrap(kek: Buffer, dek: Buffer, binding: EnvelopeBinding): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', kek, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad('dek', binding));
  const encrypted = Buffer.concat([cipher.update(dek), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), encrypted]);
}

function unwrap(kek: Buffer, wrapped: Buffer, binding: EnvelopeBinding): Buffer {
  if (wrapped.length !== WRAPPED_DEK_BYTES) throw new Error('malformed wrapped key');
  const decipher = createDecipheriv('aes-256-gcm', kek, wrapped.subarray(0, IV_BYTES), {
    authTagLength: TAG_BYTES,
  });
  decipher.setAAD(aad('dek', binding));
  decipher.setAuthTag(wrapped.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
  return Buffer.concat([decipher.update(wrapped.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
}

function assertKey(key: Buffer): void {
  if (key.length !== KEY_BYTES) throw new Error(`a key must be ${KEY_BYTES} bytes`);
}
