import { Injectable } from '@nestjs/common';
import { KeyObject } from 'node:crypto';
import { KeyringService } from '../crypto/keyring.service';
import { KeyUnavailableError } from '../crypto/sealed.error';
import {
  checkpointKeyPair,
  CheckpointKeyPair,
  CheckpointVerifyKeys,
  publicKeyPem,
} from './chain/checkpoint-signature';

export interface AuditPublicKey {
  keyId: string;
  algorithm: 'Ed25519';
  /** SPKI, PEM-encoded. */
  publicKey: string;
  active: boolean;
}

/**
 * The audit keys of every master key this instance holds: the chain key (HMAC of events) and
 * the Ed25519 pair that signs checkpoints, its seed a purpose key of the master key, so every
 * instance and the offline verifier derive the same pair and nothing extra is stored.
 */
@Injectable()
export class AuditSigningKeys implements CheckpointVerifyKeys {
  private readonly pairs = new Map<string, CheckpointKeyPair>();

  constructor(private readonly keyring: KeyringService) {}

  /** The active key's id and its checkpoint private key. Throws while sealed. */
  current(): { keyId: string; privateKey: KeyObject } {
    const keyId = this.keyring.activeKeyId();
    const pair = this.pair(keyId);
    if (!pair) throw new KeyUnavailableError(keyId);
    return { keyId, privateKey: pair.privateKey };
  }

  publicKey(keyId: string): KeyObject | undefined {
    return this.pair(keyId)?.publicKey;
  }

  chainKey(keyId: string): Buffer | undefined {
    return this.keyring.purposeKeyFor(keyId, 'audit-chain');
  }

  /** Public keys of every held master key, the active one first. */
  publicKeys(): AuditPublicKey[] {
    const active = this.keyring.activeKeyId();
    return this.keyring
      .heldKeyIds()
      .sort((a, b) => Number(b === active) - Number(a === active) || a.localeCompare(b))
      .map((keyId) => ({
        keyId,
        algorithm: 'Ed25519' as const,
        publicKey: publicKeyPem(this.pair(keyId)!.publicKey),
        active: keyId === active,
      }));
  }

  private pair(keyId: string): CheckpointKeyPair | undefined {
    let pair = this.pairs.get(keyId);
    if (!pair) {
      const seed = this.keyring.purposeKeyFor(keyId, 'audit-checkpoint');
      if (!seed) return undefined;
      pair = checkpointKeyPair(seed);
      this.pairs.set(keyId, pair);
    }
    return pair;
  }
}
