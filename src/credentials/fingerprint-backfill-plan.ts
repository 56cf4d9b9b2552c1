import type { OpenableVersion } from './version-crypto';

/** A version listed for the backfill, by its key. */
export interface VersionKey {
  credentialId: string;
  version: number;
}

/** A listed version as it is now, read under a row lock (absent once pruned). */
export type LockedVersion = VersionKey & OpenableVersion;

/** What a batch does with the versions it listed. */
export interface BackfillPlan {
  /** Value still held: its fingerprints are recomputed from it. */
  open: LockedVersion[];
  /** Pruned, destroyed, discarded or shredded since it was listed: it must keep no fingerprint. */
  gone: VersionKey[];
}

/**
 * Splits the listed versions by whether their value is still held, as the locked rows say: a
 * version deleted or wiped meanwhile gets no fingerprint back, whatever the list says.
 */
export function planBackfill(
  listed: readonly VersionKey[],
  locked: readonly LockedVersion[],
): BackfillPlan {
  const byKey = new Map(locked.map((row) => [keyOf(row), row]));
  const plan: BackfillPlan = { open: [], gone: [] };
  for (const key of listed) {
    const row = byKey.get(keyOf(key));
    if (row?.wrappedDek && row.ciphertext && row.kekId) plan.open.push(row);
    else plan.gone.push({ credentialId: key.credentialId, version: key.version });
  }
  return plan;
}

function keyOf({ credentialId, version }: VersionKey): string {
  return `${credentialId}:${Number(version)}`;
}
