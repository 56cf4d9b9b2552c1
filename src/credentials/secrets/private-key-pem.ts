import { createPrivateKey, KeyObject } from 'node:crypto';
import { PemBlock, toPem } from './pem-blocks';

/** PEM labels of private keys node can read: PKCS#8 (plain or encrypted), PKCS#1 and SEC1. */
export const PEM_PRIVATE_KEY_LABELS: ReadonlySet<string> = new Set([
  'PRIVATE KEY',
  'ENCRYPTED PRIVATE KEY',
  'RSA PRIVATE KEY',
  'EC PRIVATE KEY',
  'DSA PRIVATE KEY',
]);

/** OpenSSL writes the curve before a SEC1 key (`openssl ecparam -genkey`); it adds nothing. */
const EC_PARAMETERS = 'EC PARAMETERS';

/**
 * The one private key block among `blocks` whose label is in `labels` (by default the PEM labels
 * node reads), or undefined when there is none or more than one, or any other block.
 */
export function findPrivateKeyBlock(
  blocks: PemBlock[],
  labels: ReadonlySet<string> = PEM_PRIVATE_KEY_LABELS,
): PemBlock | undefined {
  const keys = blocks.filter((block) => labels.has(block.label));
  const others = blocks.filter(
    (block) => !labels.has(block.label) && block.label !== EC_PARAMETERS,
  );
  return keys.length === 1 && others.length === 0 ? keys[0] : undefined;
}

/** Encrypted PKCS#8, or a legacy PEM key with a `Proc-Type: 4,ENCRYPTED` header. */
export function isEncryptedKeyBlock(block: PemBlock): boolean {
  return (
    block.label === 'ENCRYPTED PRIVATE KEY' ||
    (block.headers.get('Proc-Type') ?? '').toUpperCase().includes('ENCRYPTED')
  );
}

/**
 * The key in a PEM private key block, or undefined when node cannot read it (malformed, or an
 * encrypted key with a wrong passphrase). Node's error is dropped: it is no use to a caller, and
 * a message from a parser is not something we let near a response.
 */
export function loadPrivateKey(block: PemBlock, passphrase?: string): KeyObject | undefined {
  try {
    return createPrivateKey({ key: toPem(block), format: 'pem', passphrase });
  } catch {
    return undefined;
  }
}
