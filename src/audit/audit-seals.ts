import { Injectable } from '@nestjs/common';
import { KeyringService } from '../crypto/keyring.service';
import { AuditSigningKeys } from './audit-signing-keys';
import { AuditWriter } from './audit-writer';
import { sanitizeDetails } from './audit-sanitizer';
import { chainHash, hmacHex, sameDigest } from './chain/audit-chain';
import { canonicalJson } from './chain/canonical-json';
import type { StoredEvent } from './chain/lane-verifier';

/**
 * Checks of single audit events and of rows that tell the same story (an incident's timeline
 * entry): for readers that want the chain's tamper evidence for a few events without walking the
 * whole chain. Whether an event is still in its place in the chain is verify's part.
 */
@Injectable()
export class AuditSeals {
  constructor(
    private readonly keyring: KeyringService,
    private readonly keys: AuditSigningKeys,
    private readonly writer: AuditWriter,
  ) {}

  /**
   * A keyed digest of `text` under the active chain key, `<keyId>:<hex>`: an event that carries it
   * vouches for a row's exact content, and since the key is not in the database, neither the
   * digest of a changed row nor a guess of a redacted field can be computed from it.
   */
  seal(purpose: string, text: string): string {
    const { keyId, key } = this.keyring.currentPurposeKey('audit-chain');
    return `${keyId}:${hmacHex(key, `${purpose}\n${text}`)}`;
  }

  /** Whether `seal` is the seal of `text`; undefined when its key is not held here. */
  sealMatches(seal: string, purpose: string, text: string): boolean | undefined {
    const at = seal.lastIndexOf(':');
    if (at <= 0) return false;
    const key = this.keys.chainKey(seal.slice(0, at));
    if (!key) return undefined;
    return sameDigest(seal.slice(at + 1), hmacHex(key, `${purpose}\n${text}`));
  }

  /**
   * Whether the event's hash is what the chain key makes of its fields and its stored link: a
   * changed field shows here, the key not being in the database. Undefined when its key is not
   * held here.
   */
  eventIntact(event: StoredEvent): boolean | undefined {
    const key = this.keys.chainKey(event.keyId);
    if (!key) return undefined;
    return sameDigest(event.hash, chainHash(key, event.prevHash, event));
  }

  /** Details as the writer stores them in an event (sanitized, canonical JSON). */
  detailsAsRecorded(details: Record<string, unknown>): string {
    return canonicalJson(sanitizeDetails(details, (v) => this.writer.hmacIdentifier(v)));
  }
}
