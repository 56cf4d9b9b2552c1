import { Injectable, OnModuleInit } from '@nestjs/common';
import { EntityManager, In } from 'typeorm';
import type { Kek } from '../crypto/envelope';
import { KeyRewrapParticipant, KeyRewrapRegistry } from '../crypto/key-rewrap.registry';
import { dialectOf, forUpdate } from '../database/dialect';
import { Credential } from './entities/credential.entity';
import { CredentialVersion } from './entities/credential-version.entity';
import type { CredentialType } from './secrets/credential-type';
import { OpenableVersion, Sealed, VersionCrypto } from './version-crypto';
import { insertFingerprints } from './version-fingerprints';

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
    // runner at a time holds the lease anyway). Ordered as the key-id index is, so each batch
    // reads only rows still to move instead of passing over every row moved before it.
    const lock = forUpdate(dialectOf(manager));
    const rows: (OpenableVersion & { credentialId: string })[] = await manager.query(
      'SELECT credential_id AS credentialId, version, ciphertext, iv, tag, ' +
        'wrapped_dek AS wrappedDek, kek_id AS kekId FROM credential_versions ' +
        'WHERE wrapped_dek IS NOT NULL AND kek_id <> ? ' +
        `ORDER BY kek_id, credential_id, version LIMIT ${Number(limit)}${lock}`,
      [target.id],
    );
    if (rows.length === 0) return 0;
    const types = await this.typesOf(manager, [...new Set(rows.map((r) => r.credentialId))]);
    const moved = rows.map((row) => ({
      credentialId: row.credentialId,
      version: Number(row.version),
      ...this.crypto.rewrap(
        row.credentialId,
        types.get(row.credentialId)!,
        { ...row, version: Number(row.version) },
        target,
      ),
    }));
    for (let i = 0; i < moved.length; i += WRITE_CHUNK) {
      await writeBack(manager, moved.slice(i, i + WRITE_CHUNK), target.id);
    }
    return rows.length;
  }

  private async typesOf(
    manager: EntityManager,
    ids: readonly string[],
  ): Promise<Map<string, CredentialType>> {
    const found = await manager.find(Credential, {
      select: { id: true, type: true },
      where: { id: In([...ids]) },
    });
    return new Map(found.map((c) => [c.id, c.type]));
  }
}

/** Rows per UPDATE: SQLite takes at most 32,766 parameters in a statement. */
const WRITE_CHUNK = 500;

/**
 * One UPDATE for many versions, each row getting its own wrapped key and fingerprint: a round
 * trip per version would be most of the time a rotation takes. Each row still changes in one
 * statement, so a concurrent reveal sees the old pair or the new one.
 */
async function writeBack(
  manager: EntityManager,
  moved: readonly (Pick<Sealed, 'wrappedDek' | 'fingerprint' | 'fingerprints'> & {
    credentialId: string;
    version: number;
  })[],
  kekId: string,
): Promise<void> {
  const when = moved.map(() => 'WHEN credential_id = ? AND version = ? THEN ?').join(' ');
  const key = (m: (typeof moved)[number]) => [m.credentialId, m.version];
  await manager.query(
    `UPDATE credential_versions SET wrapped_dek = CASE ${when} END, ` +
      `fingerprint = CASE ${when} END, kek_id = ? ` +
      `WHERE (credential_id, version) IN (${moved.map(() => '(?, ?)').join(', ')})`,
    [
      ...moved.flatMap((m) => [...key(m), m.wrappedDek]),
      ...moved.flatMap((m) => [...key(m), m.fingerprint]),
      kekId,
      ...moved.flatMap(key),
    ],
  );
  // The fingerprints under the new key replace the old ones (and fill in the lengths that
  // fingerprints carried over from before they were kept lacked).
  await manager.query(
    'DELETE FROM credential_fingerprints ' +
      `WHERE (credential_id, version) IN (${moved.map(() => '(?, ?)').join(', ')})`,
    moved.flatMap(key),
  );
  await insertFingerprints(manager, moved);
  // Complete now: the upgrade backfill need not open them again.
  await manager.query(
    'DELETE FROM credential_fingerprint_backfill ' +
      `WHERE (credential_id, version) IN (${moved.map(() => '(?, ?)').join(', ')})`,
    moved.flatMap(key),
  );
}
