import { createPublicKey } from 'node:crypto';
import { readOpenSshPrivateKey } from './openssh-private-key';
import { ParsedSecret } from './parsed-secret';
import { PemBlock, readPemBlocks, toPem } from './pem-blocks';
import {
  findPrivateKeyBlock,
  isEncryptedKeyBlock,
  loadPrivateKey,
  PEM_PRIVATE_KEY_LABELS,
} from './private-key-pem';
import { optional, readSecret, SecretProblems, text } from './secret-fields';
import {
  parseSshPublicKeyLine,
  sshFingerprint,
  SshPublicKey,
  sshPublicKeyOf,
  SshWireError,
} from './ssh-wire';

/**
 * An SSH key: `privateKey` in PEM (PKCS#8, PKCS#1 or SEC1, read by node, with `passphrase` when
 * encrypted) or in OpenSSH format (checked, not decrypted: see `openssh-private-key.ts`, so the
 * passphrase of an encrypted OpenSSH key cannot be verified), and optionally `publicKey`, an
 * `authorized_keys` line or PEM, which must be the private key's own.
 *
 * Derived: `keyType`, `bits`, `publicKeyFingerprint` (`SHA256:…` as `ssh-keygen -l` prints it)
 * and `encrypted`.
 */
const RULES = {
  privateKey: text({ maxBytes: 16 * 1024 }),
  passphrase: optional(text({ maxChars: 1024 })),
  publicKey: optional(text({ maxBytes: 16 * 1024 })),
};

const OPENSSH_LABEL = 'OPENSSH PRIVATE KEY';
const PRIVATE_KEY_LABELS = new Set([...PEM_PRIVATE_KEY_LABELS, OPENSSH_LABEL]);
const PUBLIC_KEY_LABELS = new Set(['PUBLIC KEY', 'RSA PUBLIC KEY']);
const SUPPORTED = 'ed25519, rsa or ecdsa (P-256, P-384, P-521)';

interface PrivateKeyFacts {
  publicKey: SshPublicKey;
  encrypted: boolean;
}

type Fail = (error: string) => undefined;

export function parseSshKeySecret(input: unknown): ParsedSecret {
  const secret = readSecret(input, RULES);
  const problems = new SecretProblems();
  const key = readPrivateKey(secret.privateKey, secret.passphrase, problems);
  const given =
    secret.publicKey === undefined ? undefined : readPublicKey(secret.publicKey, problems);
  if (key && given && !key.publicKey.blob.equals(given.blob))
    problems.add('publicKey', 'publicKey does not match privateKey');
  const { publicKey, encrypted } = problems.orThrow(key);
  return {
    value: secret,
    derived: {
      keyType: publicKey.keyType,
      bits: publicKey.bits,
      publicKeyFingerprint: sshFingerprint(publicKey.blob),
      encrypted,
    },
  };
}

function readPrivateKey(
  text: string,
  passphrase: string | undefined,
  problems: SecretProblems,
): PrivateKeyFacts | undefined {
  const fail: Fail = (error) => {
    problems.add('privateKey', error);
    return undefined;
  };
  const pem = readPemBlocks(text);
  if (!pem.ok) return fail(`privateKey is not a PEM or OpenSSH private key: ${pem.problem}`);
  const block = findPrivateKeyBlock(pem.blocks, PRIVATE_KEY_LABELS);
  if (!block)
    return fail(
      'privateKey must hold exactly one private key block (such as PRIVATE KEY or OPENSSH PRIVATE KEY)',
    );
  const passphraseFits = (encrypted: boolean): boolean => {
    if (encrypted && passphrase === undefined) fail('privateKey is encrypted: give its passphrase');
    else if (!encrypted && passphrase !== undefined)
      problems.add('passphrase', 'passphrase is given but privateKey is not encrypted');
    else return true;
    return false;
  };
  if (block.label === OPENSSH_LABEL) {
    const facts = readOpenSshKey(block, fail);
    return facts && passphraseFits(facts.encrypted) ? facts : undefined;
  }
  const encrypted = isEncryptedKeyBlock(block);
  if (!passphraseFits(encrypted)) return undefined;
  return readPemKey(block, encrypted ? passphrase : undefined, fail);
}

function readOpenSshKey(block: PemBlock, fail: Fail): PrivateKeyFacts | undefined {
  try {
    return readOpenSshPrivateKey(block.der);
  } catch (error) {
    if (!(error instanceof SshWireError)) throw error;
    return fail(`privateKey is not a well-formed OpenSSH private key: ${error.message}`);
  }
}

function readPemKey(
  block: PemBlock,
  passphrase: string | undefined,
  fail: Fail,
): PrivateKeyFacts | undefined {
  const key = loadPrivateKey(block, passphrase);
  if (!key)
    return fail(
      passphrase === undefined
        ? 'privateKey is not a valid private key'
        : 'privateKey could not be decrypted with this passphrase (or it is malformed)',
    );
  try {
    return { publicKey: sshPublicKeyOf(key), encrypted: passphrase !== undefined };
  } catch (error) {
    if (!(error instanceof SshWireError)) throw error;
    return fail(`privateKey is not an SSH key type: it must be ${SUPPORTED}`);
  }
}

function readPublicKey(text: string, problems: SecretProblems): SshPublicKey | undefined {
  const fail: Fail = (error) => {
    problems.add('publicKey', error);
    return undefined;
  };
  if (!text.trimStart().startsWith('-----')) {
    try {
      return parseSshPublicKeyLine(text);
    } catch (error) {
      if (!(error instanceof SshWireError)) throw error;
      return fail(`publicKey is not an OpenSSH public key line: ${error.message}`);
    }
  }
  const pem = readPemBlocks(text);
  if (!pem.ok) return fail(`publicKey is not a PEM public key: ${pem.problem}`);
  if (pem.blocks.length !== 1 || !PUBLIC_KEY_LABELS.has(pem.blocks[0].label))
    return fail('publicKey must hold exactly one PUBLIC KEY or RSA PUBLIC KEY block');
  try {
    return sshPublicKeyOf(createPublicKey({ key: toPem(pem.blocks[0]), format: 'pem' }));
  } catch {
    return fail(`publicKey is not a valid ${SUPPORTED} public key`);
  }
}
