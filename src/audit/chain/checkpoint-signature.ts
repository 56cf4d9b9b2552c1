import { createPrivateKey, createPublicKey, KeyObject, sign, verify } from 'node:crypto';
import {
  canonicalCheckpointLanes,
  CheckpointLane,
  sameDigest,
  signCheckpoint,
} from './audit-chain';

/**
 * Checkpoints are signed with Ed25519, so anyone holding the public key can check a copy kept
 * outside the database. Rows written before that carry an HMAC under the audit-chain key, which
 * only a holder of the master key can check; they stay valid under their own algorithm.
 */
export const CHECKPOINT_ALGORITHMS = ['Ed25519', 'HMAC-SHA256'] as const;
export type CheckpointAlgorithm = (typeof CHECKPOINT_ALGORITHMS)[number];

/** What a checkpoint states and how it is signed, as stored or as a sink received it. */
export interface CheckpointStatement {
  id: string;
  createdAt: Date;
  headSeq: string | null;
  lanes: CheckpointLane[];
  keyId: string;
  algorithm: CheckpointAlgorithm;
  signature: string;
}

export interface CheckpointKeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** The fixed ASN.1 head of a PKCS#8 Ed25519 private key (RFC 8410); the 32-byte seed follows. */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** Builds the key pair from a 32-byte seed, so the same master key always gives the same pair. */
export function checkpointKeyPair(seed: Buffer): CheckpointKeyPair {
  if (seed.length !== 32) throw new Error('an Ed25519 seed must be 32 bytes');
  const privateKey = createPrivateKey({
    key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]),
    format: 'der',
    type: 'pkcs8',
  });
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

export const CHECKPOINT_MESSAGE_TAG = 'custos audit checkpoint v2';

/**
 * The exact bytes an Ed25519 checkpoint signs: a JSON array anyone can rebuild from the NDJSON
 * line with `JSON.stringify` (the README shows how), lanes in lane order as
 * `[lane, laneSeq, seq, hash]`.
 */
export function checkpointMessage(
  createdAt: Date,
  headSeq: string | null,
  lanes: CheckpointLane[],
): Buffer {
  return Buffer.from(
    `[${JSON.stringify(CHECKPOINT_MESSAGE_TAG)},${JSON.stringify(createdAt.toISOString())},` +
      `${JSON.stringify(headSeq)},${canonicalCheckpointLanes(lanes)}]`,
  );
}

/** Base64 of the 64-byte Ed25519 signature. */
export function signCheckpointEd25519(
  privateKey: KeyObject,
  createdAt: Date,
  headSeq: string | null,
  lanes: CheckpointLane[],
): string {
  return sign(null, checkpointMessage(createdAt, headSeq, lanes), privateKey).toString('base64');
}

export interface CheckpointVerifyKeys {
  /** The Ed25519 public key of a master key id; undefined when unknown. */
  publicKey(keyId: string): KeyObject | undefined;
  /** The audit-chain key of a master key id, for HMAC checkpoints; undefined when not held. */
  chainKey(keyId: string): Buffer | undefined;
}

/** Why the statement's signature does not hold, or null when it does. */
export function checkpointSignatureProblem(
  statement: CheckpointStatement,
  keys: CheckpointVerifyKeys,
): string | null {
  if (statement.algorithm === 'Ed25519') {
    const publicKey = keys.publicKey(statement.keyId);
    if (!publicKey) return `no public key for key id "${statement.keyId}"`;
    const signature = Buffer.from(statement.signature, 'base64');
    const message = checkpointMessage(statement.createdAt, statement.headSeq, statement.lanes);
    // A signature of the wrong length is simply invalid, never an exception.
    return signature.length === 64 && verify(null, message, publicKey, signature)
      ? null
      : 'invalid signature';
  }
  const key = keys.chainKey(statement.keyId);
  if (!key) return `no audit key for key id "${statement.keyId}"`;
  const expected = signCheckpoint(
    key,
    statement.createdAt,
    statement.headSeq,
    canonicalCheckpointLanes(statement.lanes),
  );
  return sameDigest(expected, statement.signature) ? null : 'invalid signature';
}

/** The public key as PEM (SPKI), the form openssl and node:crypto read directly. */
export function publicKeyPem(publicKey: KeyObject): string {
  return publicKey.export({ type: 'spki', format: 'pem' }).toString();
}
