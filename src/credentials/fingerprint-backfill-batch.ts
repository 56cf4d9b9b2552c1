import { EntityManager, In } from 'typeorm';
import { dialectOf, forUpdate } from '../database/dialect';
import { Credential } from './entities/credential.entity';
import { LockedVersion, planBackfill, VersionKey } from './fingerprint-backfill-plan';
import type { VersionCrypto } from './version-crypto';
import { insertFingerprints } from './version-fingerprints';

/** What one batch did, in counts and the key to go on after. */
export interface BackfillBatch {
  filled: number;
  /** Listed versions whose value is gone: their listing dropped, no fingerprint written. */
  gone: number;
  /** Versions that did not open (a master key not held here): left listed for a later pass. */
  failed: VersionKey[];
  /** The last listed key read, or null when nothing was left after `after`. */
  last: VersionKey | null;
}

const keyList = (keys: readonly VersionKey[]) => keys.map(() => '(?, ?)').join(', ');
const keyParams = (keys: readonly VersionKey[]) =>
  keys.flatMap((k) => [k.credentialId, Number(k.version)]);

/**
 * One transaction of the backfill: the next `limit` listed versions after `after`, locked in key
 * order, their fingerprints recomputed from the value as a fresh write does (under the master key
 * that wraps each) and their rows replaced. The version rows are locked before anything is
 * written, as a re-wrap, a new version, a prune or a shred lock them before they touch the
 * fingerprints: whichever commits second sees the other's result, so a version wiped meanwhile is
 * never given fingerprints back and a re-wrap's rows are recomputed under its new key.
 */
export async function backfillBatch(
  manager: EntityManager,
  crypto: VersionCrypto,
  after: VersionKey | null,
  limit: number,
): Promise<BackfillBatch> {
  const listed = (
    await manager.query<{ credentialId: string; version: number | string }[]>(
      'SELECT credential_id AS credentialId, version FROM credential_fingerprint_backfill ' +
        (after ? 'WHERE credential_id > ? OR (credential_id = ? AND version > ?) ' : '') +
        `ORDER BY credential_id, version LIMIT ${Number(limit)}`,
      after ? [after.credentialId, after.credentialId, Number(after.version)] : [],
    )
  ).map((row) => ({ credentialId: row.credentialId, version: Number(row.version) }));
  if (listed.length === 0) return { filled: 0, gone: 0, failed: [], last: null };
  const locked = await manager.query<LockedVersion[]>(
    'SELECT credential_id AS credentialId, version, ciphertext, iv, tag, ' +
      'wrapped_dek AS wrappedDek, kek_id AS kekId FROM credential_versions ' +
      `WHERE (credential_id, version) IN (${keyList(listed)}) ` +
      `ORDER BY credential_id, version${forUpdate(dialectOf(manager))}`,
    keyParams(listed),
  );
  const plan = planBackfill(listed, locked);
  const types = await typesOf(manager, plan.open);
  const filled: (VersionKey & { fingerprints: ReturnType<VersionCrypto['fingerprints']> })[] = [];
  const failed: VersionKey[] = [];
  for (const row of plan.open) {
    const key = { credentialId: row.credentialId, version: Number(row.version) };
    try {
      const secret = crypto.open(row.credentialId, { ...row, version: key.version });
      filled.push({
        ...key,
        fingerprints: crypto.fingerprints(row.kekId!, types.get(key.credentialId)!, secret),
      });
    } catch {
      // Never the error itself: a cipher or JSON message could quote what it choked on.
      failed.push(key);
    }
  }
  const done = [...filled, ...plan.gone];
  if (done.length > 0) {
    await manager.query(
      `DELETE FROM credential_fingerprints WHERE (credential_id, version) IN (${keyList(done)})`,
      keyParams(done),
    );
    await insertFingerprints(manager, filled);
    await manager.query(
      `DELETE FROM credential_fingerprint_backfill WHERE (credential_id, version) IN (${keyList(done)})`,
      keyParams(done),
    );
  }
  return { filled: filled.length, gone: plan.gone.length, failed, last: listed[listed.length - 1] };
}

async function typesOf(
  manager: EntityManager,
  versions: readonly VersionKey[],
): Promise<Map<string, Credential['type']>> {
  if (versions.length === 0) return new Map();
  const ids = [...new Set(versions.map((v) => v.credentialId))];
  const found = await manager.find(Credential, {
    select: { id: true, type: true },
    where: { id: In(ids) },
  });
  return new Map(found.map((c) => [c.id, c.type]));
}
