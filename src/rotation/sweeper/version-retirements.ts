import { EntityManager } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { CredentialVersion } from '../../credentials/entities/credential-version.entity';
import type { VersionRef } from '../../credentials/version-store';
import { dialectOf, timestampParam, utcNowSql } from '../../database/dialect';

/**
 * The bookkeeping of retiring versions' accounts, in the retire columns of `credential_versions`
 * (their states stay VersionStore's): `account` names the account in the target system a version
 * belonged to (written by a rotator's finish hook); a version that has left service with an
 * account and no `retired_at` is due. `retire_claim` and `retire_after` are a claim (a token and
 * its expiry) while an instance works on it, and the backoff after a failure.
 */

/** A version due for retirement. */
export interface RetirementDue {
  credentialId: string;
  version: number;
  account: string;
  failures: number;
}

/** Left service: revoked or destroyed, or previous with its grace over (the sweep may lag). */
const LEFT_SERVICE =
  "(state IN ('revoked', 'destroyed') OR (state = 'previous' AND grace_until <= ?))";

/** Not claimed by a live claim and not backing off. */
const TAKEABLE = '(retire_after IS NULL OR retire_after <= ?)';

/** Versions due for retirement, oldest first: a plain read, the claim decides who works on each. */
export async function retirementsDue(
  manager: EntityManager,
  now: Date,
  limit: number,
): Promise<RetirementDue[]> {
  const at = timestampParam(dialectOf(manager), now);
  const rows = await manager.query<
    { credentialId: string; version: number; account: string; failures: number }[]
  >(
    'SELECT credential_id AS credentialId, version, account, retire_failures AS failures ' +
      'FROM credential_versions WHERE retired_at IS NULL AND account IS NOT NULL ' +
      `AND ${TAKEABLE} AND ${LEFT_SERVICE} ORDER BY credential_id, version LIMIT ${Number(limit)}`,
    [at, at],
  );
  return rows.map((row) => ({
    ...row,
    version: Number(row.version),
    failures: Number(row.failures),
  }));
}

/**
 * Takes a version for `claimTtlMs` under `token`, if no one else has it and it is still due: one
 * conditional UPDATE, so of several instances exactly one gets it.
 */
export async function claimRetirement(
  manager: EntityManager,
  ref: VersionRef,
  token: string,
  now: Date,
  claimTtlMs: number,
): Promise<boolean> {
  return updated(
    manager,
    { retireClaim: token, retireAfter: new Date(now.getTime() + claimTtlMs) },
    ref,
    'account IS NOT NULL AND (retire_after IS NULL OR retire_after <= :now)',
    { now: timestampParam(dialectOf(manager), now) },
  );
}

/**
 * Ends a retirement: done (`retired_at`), by the holder of `token`, or with no claim (`token`
 * null) when nothing had to be done; false when the claim was lost meanwhile.
 */
export function completeRetirement(
  manager: EntityManager,
  ref: VersionRef,
  token: string | null,
  now: Date,
): Promise<boolean> {
  return updated(
    manager,
    { retiredAt: now, retireClaim: null, retireAfter: null },
    ref,
    token === null ? 'retire_claim IS NULL' : 'retire_claim = :token',
    { token },
  );
}

/** A failed attempt: the claim released, the next attempt not before `retryAt`. */
export function failRetirement(
  manager: EntityManager,
  ref: VersionRef,
  token: string,
  retryAt: Date,
): Promise<boolean> {
  return updated(
    manager,
    { retireClaim: null, retireAfter: retryAt, retireFailures: () => 'retire_failures + 1' },
    ref,
    'retire_claim = :token',
    { token },
  );
}

/**
 * Whether an instance holds a live claim to retire `account` of this credential right now: a
 * rotation must not hand the account a new password then, or the retirement's lock could land
 * after it. (No claim is taken while a run of the credential is open, see VersionRetirer.)
 */
export async function isBeingRetired(
  manager: EntityManager,
  credentialId: string,
  account: string,
): Promise<boolean> {
  const rows = await manager.query<unknown[]>(
    'SELECT 1 AS claimed FROM credential_versions WHERE credential_id = ? AND account = ? ' +
      'AND retired_at IS NULL AND retire_claim IS NOT NULL ' +
      `AND retire_after > ${utcNowSql(dialectOf(manager))}`,
    [credentialId, account],
  );
  return rows.length > 0;
}

/**
 * Records which account versions belong to, in the switch transaction: the pending version's, and
 * the current one's when no rotator recorded it (version 1, or a value a person wrote).
 */
export async function recordAccounts(
  manager: EntityManager,
  credentialId: string,
  pending: { version: number; account: string },
  current: string | null,
): Promise<void> {
  await manager.query(
    'UPDATE credential_versions SET account = ? WHERE credential_id = ? AND version = ?',
    [pending.account, credentialId, pending.version],
  );
  if (current === null) return;
  await manager.query(
    'UPDATE credential_versions SET account = ? ' +
      "WHERE credential_id = ? AND state = 'current' AND account IS NULL",
    [current, credentialId],
  );
}

/**
 * One conditional UPDATE of a version not yet retired; whether it changed the row. Through the
 * query builder, which reports affected rows on both dialects.
 */
async function updated(
  manager: EntityManager,
  values: QueryDeepPartialEntity<CredentialVersion>,
  ref: VersionRef,
  condition: string,
  parameters: Record<string, unknown>,
): Promise<boolean> {
  const result = await manager
    .createQueryBuilder()
    .update(CredentialVersion)
    .set(values)
    .where(
      `credential_id = :credentialId AND version = :version AND retired_at IS NULL AND ${condition}`,
      { ...parameters, credentialId: ref.credentialId, version: ref.version },
    )
    .execute();
  return (result.affected ?? 0) > 0;
}
