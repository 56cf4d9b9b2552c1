import { Injectable, OnModuleInit } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import type { Kek } from '../crypto/envelope';
import { KeyRewrapParticipant, KeyRewrapRegistry } from '../crypto/key-rewrap.registry';
import { dialectOf, forUpdate } from '../database/dialect';
import { Credential } from './entities/credential.entity';
import { CredentialVersion } from './entities/credential-version.entity';
import { VersionCrypto } from './version-crypto';

/**
 * Moves the data keys of credential versions to the new master key, a batch per transaction.
 * Each version row is rewritten in one UPDATE, so a concurrent reveal sees either the old
 * (key id, wrapped key) pair or the new one, both of which decrypt.
 */
@Injectable()
export class VersionRewrapParticipant implements KeyRewrapParticipant, OnModuleInit {
  readonly name = 'secretVersions';

  constructor(
    private readonly registry: KeyRewrapRegistry,
    private readonly crypto: VersionCrypto,
  ) {}

  onModuleInit(): void {
    this.registry.register(this);
  }

  async countByKey(manager: EntityManager): Promise<Record<string, number>> {
    const rows: { kekId: string; count: string | number }[] = await manager
      .getRepository(CredentialVersion)
      .createQueryBuilder('v')
      .select('v.kek_id', 'kekId')
      .addSelect('COUNT(*)', 'count')
      .where('v.wrapped_dek IS NOT NULL')
      .groupBy('v.kek_id')
      .getRawMany();
    return Object.fromEntries(rows.map((r) => [r.kekId, Number(r.count)]));
  }

  async rewrapBatch(manager: EntityManager, target: Kek, limit: number): Promise<number> {
    // No SKIP LOCKED: a row busy in another transaction is waited for, never left behind (one
    // runner at a time holds the lease anyway).
    const lock = forUpdate(dialectOf(manager));
    const rows: { credentialId: string; version: number }[] = await manager.query(
      'SELECT credential_id AS credentialId, version FROM credential_versions ' +
        `WHERE wrapped_dek IS NOT NULL AND kek_id <> ? ORDER BY credential_id, version LIMIT ${Number(limit)}${lock}`,
      [target.id],
    );
    for (const { credentialId, version } of rows) {
      const row = await manager
        .getRepository(CredentialVersion)
        .createQueryBuilder('v')
        .addSelect(['v.ciphertext', 'v.iv', 'v.tag', 'v.wrappedDek'])
        .where('v.credentialId = :credentialId AND v.version = :version', { credentialId, version })
        .getOneOrFail();
      const { type } = await manager.findOneOrFail(Credential, {
        select: { type: true },
        where: { id: credentialId },
      });
      const moved = this.crypto.rewrap(credentialId, type, row, target);
      await manager.update(CredentialVersion, { credentialId, version }, moved);
    }
    return rows.length;
  }
}
