import { EntityManager } from 'typeorm';
import { CredentialTag } from './entities/credential-tag.entity';

/**
 * The tags of a new credential; returns the comma-joined copy kept on the credential row. Insert
 * only: a DELETE of a new id's (absent) rows would take a gap lock in the tags index, and
 * parallel creates holding such locks deadlock on each other's inserts.
 */
export async function insertTags(
  manager: EntityManager,
  credentialId: string,
  tags: readonly string[],
): Promise<string> {
  const unique = [...new Set(tags)].sort();
  if (unique.length > 0) {
    await manager.insert(
      CredentialTag,
      unique.map((tag) => ({ credentialId, tag })),
    );
  }
  return unique.join(',');
}

/**
 * Replaces an existing credential's tags. The caller holds the credential's row lock, so
 * changes to one credential's tags never interleave.
 */
export async function replaceTags(
  manager: EntityManager,
  credentialId: string,
  tags: readonly string[],
): Promise<string> {
  await manager.delete(CredentialTag, { credentialId });
  return insertTags(manager, credentialId, tags);
}
