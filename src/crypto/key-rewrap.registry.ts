import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { Kek } from './envelope';

/**
 * Data protected by a master key, which a master-key rotation must move to the new key: the
 * credentials' wrapped data keys, the sealed TOTP secrets. Each owning module registers one, so
 * the crypto module needs no knowledge of their tables.
 */
export interface KeyRewrapParticipant {
  /** camelCase, used as a field name in the key status (e.g. `secretVersions`). */
  readonly name: string;
  /** How many items each master key still protects, by key id. */
  countByKey(manager: EntityManager): Promise<Record<string, number>>;
  /**
   * Moves up to `limit` items that are not under `target` to it, in the caller's transaction,
   * without decrypting any value for output. Returns how many moved; 0 when none are left.
   */
  rewrapBatch(manager: EntityManager, target: Kek, limit: number): Promise<number>;
}

@Injectable()
export class KeyRewrapRegistry {
  private readonly list: KeyRewrapParticipant[] = [];

  register(participant: KeyRewrapParticipant): void {
    if (this.list.some((p) => p.name === participant.name))
      throw new Error(`key re-wrap participant "${participant.name}" is registered twice`);
    this.list.push(participant);
  }

  participants(): readonly KeyRewrapParticipant[] {
    return this.list;
  }
}
