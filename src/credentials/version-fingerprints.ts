import { EntityManager, In } from 'typeorm';
import { CredentialFingerprint } from './entities/credential-fingerprint.entity';
import type { ValueFingerprint } from './version-crypto';

/** Rows per INSERT: four parameters each, far below SQLite's 32,766. */
const INSERT_CHUNK = 500;

/** The leak-scan fingerprints of versions, written with them in the caller's transaction. */
export async function insertFingerprints(
  manager: EntityManager,
  versions: readonly { credentialId: string; version: number; fingerprints: ValueFingerprint[] }[],
): Promise<void> {
  const rows = versions.flatMap(({ credentialId, version, fingerprints }) =>
    fingerprints.map(({ fingerprint, valueLength }) => ({
      credentialId,
      version,
      fingerprint,
      valueLength,
    })),
  );
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
    await manager.insert(CredentialFingerprint, rows.slice(i, i + INSERT_CHUNK));
  }
}

/** A version's value is wiped or moved: its fingerprints go (all of a credential's by default). */
export async function deleteFingerprints(
  manager: EntityManager,
  credentialId: string,
  versions?: readonly number[],
): Promise<void> {
  if (versions?.length === 0) return;
  await manager.delete(
    CredentialFingerprint,
    versions ? { credentialId, version: In([...versions]) } : { credentialId },
  );
}
