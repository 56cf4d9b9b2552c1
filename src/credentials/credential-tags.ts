import { EntityManager } from 'typeorm';
import { CredentialTag } from './entities/credential-tag.entity';

/** Replaces a credential's tags; returns the comma-joined copy kept on the credential row. */
export async function replaceTags(
  manager: EntityManager,
  credentialId: string,
  tags: readonly string[],
): Promise<string> {
  const unique = [...new Set(tags)].sort();
  await manager.delete(CredentialTag, { credentialId });
  if (unique.length > 0) {
    await manager.insert(
      CredentialTag,
      unique.map((tag) => ({ credentialId, tag })),
    );
  }
  return unique.join(',');
}
