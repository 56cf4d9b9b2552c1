import { Inject, Injectable } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { EntityManager, In } from 'typeorm';
import { credentialsConfig } from '../config/credentials.config';
import {
  databaseNow,
  dialectOf,
  forUpdateSkipLocked,
  timestampParam,
  toDate,
  placeholders,
} from '../database/dialect';
import { CredentialStateError } from './credential.errors';
import { Credential } from './entities/credential.entity';
import { CredentialVersion, LiveState, VersionState } from './entities/credential-version.entity';
import { checkedSecret, secretInfoOf } from './secret-input';
import type { ParsedSecret } from './secrets/parsed-secret';
import { OpenableVersion, VersionCrypto } from './version-crypto';
import { deleteFingerprints, insertFingerprints } from './version-fingerprints';
import { versionsToPrune } from './version-states';
import { updateGrouped } from '../database/grouped-update';

const EXPIRY_FROM_SECRET: ReadonlySet<string> = new Set(['certificate', 'jwt']);

/** What wiping a version's secret material writes: nothing can bring the value back. */
const WIPED = {
  ciphertext: null,
  iv: null,
  tag: null,
  wrappedDek: null,
  fingerprint: null,
} as const;

/** The columns of a version that opening it needs, in plain SQL, under their property names. */
const SEALED_COLUMNS = 'version, ciphertext, iv, tag, wrapped_dek AS wrappedDek, kek_id AS kekId';

type SealedRow = Record<'version' | 'ciphertext' | 'iv' | 'tag' | 'wrappedDek' | 'kekId', unknown>;

/** A row of SEALED_COLUMNS as TypeORM would give it (mysql2 and SQLite hand blobs as Buffers). */
function sealedFromRow(row: SealedRow): OpenableVersion {
  return {
    version: Number(row.version),
    ciphertext: (row.ciphertext as Buffer | null) ?? null,
    iv: row.iv as string | null,
    tag: row.tag as string | null,
    wrappedDek: row.wrappedDek as string | null,
    kekId: row.kekId as string | null,
  };
}

export interface Promotion {
  version: number;
  /** The version that was current, now previous (or revoked at once with grace 0). */
  previousVersion: number;
  /** End of the old version's grace, database clock; null when it was revoked at once. */
  graceUntil: Date | null;
  /** Versions revoked by this switch (an older previous one, or the old current with grace 0). */
  revoked: number[];
  /** Versions deleted because more than the configured number were kept. */
  pruned: number[];
}

/** One pending version to switch to, for promoteAll(). */
export interface Switch {
  /** Locked by the caller; its current and row versions are moved on as they are written. */
  credential: Credential;
  version: number;
  graceSeconds: number;
  secret?: ParsedSecret;
}

/** What is known of a version while switching: enough to decide states and pruning. */
type VersionSnapshot = Pick<
  CredentialVersion,
  'version' | 'state' | 'graceUntil' | 'account' | 'retiredAt'
>;

/** The current and pending values of a batch, opened on demand. */
export interface LiveValues {
  /** The current value, or the pending one when its version is named. */
  value(credentialId: string, version?: number): Record<string, unknown>;
}

export interface VersionRef {
  credentialId: string;
  version: number;
}

/** A previous version the sweep revoked; its grace ended at `graceUntil`. */
export interface RevokedVersion extends VersionRef {
  graceUntil: Date;
}

/** A revoked version the sweep wiped; it had been revoked since `revokedAt`. */
export interface DestroyedVersion extends VersionRef {
  revokedAt: Date;
}

/**
 * The one place that writes version states (DESIGN.md §5): pending → current → previous →
 * revoked → destroyed. Every operation runs in the caller's transaction, with the credential row
 * locked by the caller (the sweeps, revokeExpired and destroyRevoked, lock only the version rows
 * they take), and takes its times from the database clock. The database itself refuses
 * a second current or pending version (`uq_credential_versions_live`).
 */
@Injectable()
export class VersionStore {
  constructor(
    private readonly crypto: VersionCrypto,
    @Inject(credentialsConfig.KEY) private readonly config: ConfigType<typeof credentialsConfig>,
  ) {}

  /** Version 1 of a new credential, current from the start. */
  async addFirst(
    manager: EntityManager,
    credential: Pick<Credential, 'id' | 'type'>,
    secret: ParsedSecret,
    createdBy: string | null,
  ): Promise<void> {
    await this.insertAll(manager, [{ credential, version: 1, secret }], 'current', createdBy);
  }

  /**
   * Stores a new value as `pending`: not revealed, not served, until promoted. Takes the next
   * version number for good, so a discarded pending version leaves no gap that is reused.
   */
  async addPending(
    manager: EntityManager,
    credential: Credential,
    secret: ParsedSecret,
    createdBy: string | null,
  ): Promise<number> {
    const [version] = await this.addPendingAll(manager, [{ credential, secret }], createdBy);
    return version;
  }

  /** addPending() for several credentials: one insert and one update of their rows. */
  async addPendingAll(
    manager: EntityManager,
    values: readonly { credential: Credential; secret: ParsedSecret }[],
    createdBy: string | null,
  ): Promise<number[]> {
    const versions = values.map(({ credential }) => credential.lastVersion + 1);
    await this.insertAll(
      manager,
      values.map(({ credential, secret }, i) => ({ credential, version: versions[i], secret })),
      'pending',
      createdBy,
    );
    await updateGrouped(
      manager,
      Credential,
      values.map(({ credential }, i) => ({
        key: credential.id,
        changes: { lastVersion: versions[i], rowVersion: credential.rowVersion + 1 },
      })),
      (ids) => ({ id: In(ids) }),
    );
    values.forEach(({ credential }, i) => {
      credential.lastVersion = versions[i];
      credential.rowVersion += 1;
    });
    return versions;
  }

  /**
   * The current and pending values of several credentials, read in one statement and opened
   * when asked for: the rotation engine's test step of a whole batch.
   */
  async liveValues(manager: EntityManager, credentialIds: readonly string[]): Promise<LiveValues> {
    const rows =
      credentialIds.length === 0
        ? []
        : await manager.query<(SealedRow & { credentialId: string; state: string })[]>(
            `SELECT credential_id AS credentialId, state, ${SEALED_COLUMNS} ` +
              'FROM credential_versions WHERE live_state IS NOT NULL AND ' +
              `credential_id IN (${placeholders(credentialIds)})`,
            [...credentialIds],
          );
    const live = new Map(rows.map((row) => [`${row.credentialId}/${row.state}`, row]));
    return {
      value: (credentialId, version) => {
        const row = live.get(`${credentialId}/${version === undefined ? 'current' : 'pending'}`);
        if (!row || (version !== undefined && Number(row.version) !== version)) {
          throw new CredentialStateError(`Version ${version ?? 'current'} not found`);
        }
        return this.crypto.open(credentialId, sealedFromRow(row));
      },
    };
  }

  /**
   * The decrypted value of a version (the current one when none is named), for the rotation
   * engine's hooks; HTTP callers reveal through RevealService, which audits.
   */
  async value(
    manager: EntityManager,
    credentialId: string,
    version?: number,
  ): Promise<Record<string, unknown>> {
    // Plain SQL: the rotation engine reads values at every run's test step.
    const [row] = await manager.query<SealedRow[]>(
      `SELECT ${SEALED_COLUMNS} FROM credential_versions WHERE credential_id = ? AND ` +
        (version === undefined ? "state = 'current'" : 'version = ?'),
      version === undefined ? [credentialId] : [credentialId, version],
    );
    if (!row) throw new CredentialStateError(`Version ${version ?? 'current'} not found`);
    return this.crypto.open(credentialId, sealedFromRow(row));
  }

  /** The pending version of a credential, if there is one. */
  async pendingVersion(manager: EntityManager, credentialId: string): Promise<number | null> {
    return (await this.pendingVersions(manager, [credentialId])).get(credentialId) ?? null;
  }

  /** The pending versions of several credentials, by credential id (those that have one). */
  async pendingVersions(
    manager: EntityManager,
    credentialIds: readonly string[],
  ): Promise<Map<string, number>> {
    if (credentialIds.length === 0) return new Map();
    const rows = await manager.query<{ credentialId: string; version: number | string }[]>(
      'SELECT credential_id AS credentialId, version FROM credential_versions ' +
        `WHERE state = 'pending' AND credential_id IN (${placeholders(credentialIds)})`,
      [...credentialIds],
    );
    return new Map(rows.map((row) => [row.credentialId, Number(row.version)]));
  }

  /**
   * Pending → current in one transaction. The old current becomes `previous` until
   * `db_now + graceSeconds`, or `revoked` at once when the grace is 0 (emergency); an older
   * previous version is revoked, so at most one old value is ever revealable. `secret` is the
   * pending value when the caller has it; otherwise it is read back from the version.
   */
  async promote(
    manager: EntityManager,
    credential: Credential,
    version: number,
    graceSeconds: number,
    secret?: ParsedSecret,
  ): Promise<Promotion> {
    const [promotion] = await this.promoteAll(manager, [
      { credential, version, graceSeconds, secret },
    ]);
    return promotion;
  }

  /**
   * promote() for several credentials at once (a batch of rotations): the same transitions, in
   * the same order, each written for the whole batch in one statement where the rows agree.
   */
  async promoteAll(manager: EntityManager, switches: readonly Switch[]): Promise<Promotion[]> {
    if (switches.length === 0) return [];
    const ids = switches.map((s) => s.credential.id);
    // Every version of the credentials in one read (the caller holds their locks, so they cannot
    // change under us): the pending ones, older previous ones, and what pruning sees.
    const versionsOf = await this.statesOf(manager, ids);
    const secrets = await this.pendingSecrets(manager, switches);
    const now = await databaseNow(manager);
    const plans = switches.map((s, i) => {
      const versions = versionsOf.get(s.credential.id) ?? [];
      const pending = versions.find((v) => v.version === s.version);
      if (!pending || pending.state !== 'pending') {
        throw new CredentialStateError(`Version ${s.version} is not pending`);
      }
      const graceUntil =
        s.graceSeconds > 0 ? new Date(now.getTime() + s.graceSeconds * 1000) : null;
      const older = versions.filter((v) => v.state === 'previous').map((v) => v.version);
      return { ...s, versions, graceUntil, older, value: secrets[i] };
    });
    const withOlder = plans.filter((p) => p.older.length > 0).map((p) => p.credential.id);
    if (withOlder.length > 0) {
      await manager.update(
        CredentialVersion,
        { credentialId: In(withOlder), state: 'previous' },
        { state: 'revoked', revokedAt: now },
      );
    }
    // Old current out of the 'current' slot before the pending version takes it: the unique
    // index checks each row as it is written.
    await updateGrouped<CredentialVersion, string>(
      manager,
      CredentialVersion,
      plans.map((p) => ({
        key: p.credential.id,
        changes: p.graceUntil
          ? { state: 'previous' as const, liveState: null, graceUntil: p.graceUntil }
          : { state: 'revoked' as const, liveState: null, graceUntil: now, revokedAt: now },
      })),
      (keys) => ({ credentialId: In(keys), state: 'current' as const }),
    );
    await manager.update(
      CredentialVersion,
      { credentialId: In(ids), state: 'pending' },
      { state: 'current', liveState: 'current' },
    );
    await updateGrouped(
      manager,
      Credential,
      plans.map(({ credential, version, value }) => ({
        key: credential.id,
        changes: {
          currentVersion: version,
          secretInfo: secretInfoOf(value),
          // Certificates and JWTs carry their own expiry: it follows the new value.
          ...(EXPIRY_FROM_SECRET.has(credential.type)
            ? { expiresAt: value.expiresAt ?? null }
            : {}),
          rowVersion: credential.rowVersion + 1,
        },
      })),
      (keys) => ({ id: In(keys) }),
    );
    const promotions: Promotion[] = [];
    for (const p of plans) {
      const previousVersion = p.credential.currentVersion;
      p.credential.currentVersion = p.version;
      p.credential.rowVersion += 1;
      const pruned = await this.prune(manager, p.credential.id, afterSwitch(p, now), now);
      const revoked = p.graceUntil ? p.older : [...p.older, previousVersion];
      promotions.push({
        version: p.version,
        previousVersion,
        graceUntil: p.graceUntil,
        revoked,
        pruned,
      });
    }
    return promotions;
  }

  /** A pending version that will never serve: its value is wiped, its number stays used. */
  async discardPending(
    manager: EntityManager,
    credentialId: string,
    version: number,
  ): Promise<boolean> {
    const now = await databaseNow(manager);
    const result = await manager.update(
      CredentialVersion,
      { credentialId, version, state: 'pending' },
      { state: 'destroyed', liveState: null, ...WIPED, revokedAt: now, destroyedAt: now },
    );
    if ((result.affected ?? 0) === 0) return false;
    await deleteFingerprints(manager, credentialId, [version]);
    return true;
  }

  /**
   * Previous versions whose grace has ended (database clock), up to `limit`, written down as
   * revoked at the end of their grace. Reveal already refuses them by their effective state; this
   * makes it data. Several instances sweep at once, so each version is revoked, and returned, by
   * exactly one transaction: on MariaDB the rows are taken with SKIP LOCKED (each sweeper gets
   * rows of its own), and every UPDATE is conditional on the state, so a row another transaction
   * revoked first (a Galera node, a promotion) is not returned again.
   */
  async revokeExpired(manager: EntityManager, limit: number): Promise<RevokedVersion[]> {
    const dialect = dialectOf(manager);
    const now = await databaseNow(manager);
    const due = await manager.query<
      { credentialId: string; version: number; graceUntil: unknown }[]
    >(
      'SELECT credential_id AS credentialId, version, grace_until AS graceUntil ' +
        "FROM credential_versions WHERE state = 'previous' " +
        'AND (grace_until IS NULL OR grace_until <= ?) ' +
        `ORDER BY grace_until LIMIT ${Number(limit)}${forUpdateSkipLocked(dialect)}`,
      [timestampParam(dialect, now)],
    );
    const revoked: RevokedVersion[] = [];
    for (const row of due) {
      const version = Number(row.version);
      const graceUntil = row.graceUntil ? toDate(row.graceUntil as Date | string) : now;
      const result = await manager.update(
        CredentialVersion,
        { credentialId: row.credentialId, version, state: 'previous' },
        { state: 'revoked', revokedAt: graceUntil },
      );
      if ((result.affected ?? 0) > 0) {
        revoked.push({ credentialId: row.credentialId, version, graceUntil });
      }
    }
    return revoked;
  }

  /**
   * Ends a previous version's grace now (database clock), so the sweep revokes it: for a
   * rotation whose consumers have all picked up the new value. Only a `previous` version whose
   * grace is still running changes, so of several instances deciding the same at once, one
   * does; returns the grace it had, or null when it changed nothing.
   */
  async endGrace(
    manager: EntityManager,
    credentialId: string,
    version: number,
  ): Promise<{ graceUntil: Date; endedAt: Date } | null> {
    const dialect = dialectOf(manager);
    const now = await databaseNow(manager);
    const [row] = await manager.query<{ graceUntil: unknown }[]>(
      'SELECT grace_until AS graceUntil FROM credential_versions ' +
        "WHERE credential_id = ? AND version = ? AND state = 'previous'",
      [credentialId, version],
    );
    const result = await manager
      .createQueryBuilder()
      .update(CredentialVersion)
      .set({ graceUntil: now })
      .where("credential_id = :credentialId AND version = :version AND state = 'previous'", {
        credentialId,
        version,
      })
      .andWhere('grace_until > :now', { now: timestampParam(dialect, now) })
      .execute();
    if (!row?.graceUntil || (result.affected ?? 0) === 0) return null;
    return { graceUntil: toDate(row.graceUntil as Date | string), endedAt: now };
  }

  /**
   * Revoked versions older than `retentionSeconds` (database clock), up to `limit`: secret
   * material wiped, `destroyed`. Each is returned by exactly one transaction, as in revokeExpired.
   */
  async destroyRevoked(
    manager: EntityManager,
    retentionSeconds: number,
    limit: number,
  ): Promise<DestroyedVersion[]> {
    const dialect = dialectOf(manager);
    const now = await databaseNow(manager);
    const before = new Date(now.getTime() - retentionSeconds * 1000);
    const due = await manager.query<
      { credentialId: string; version: number; revokedAt: unknown }[]
    >(
      'SELECT credential_id AS credentialId, version, revoked_at AS revokedAt ' +
        "FROM credential_versions WHERE state = 'revoked' AND revoked_at <= ? " +
        `ORDER BY revoked_at LIMIT ${Number(limit)}${forUpdateSkipLocked(dialect)}`,
      [timestampParam(dialect, before)],
    );
    const destroyed: DestroyedVersion[] = [];
    for (const row of due) {
      const version = Number(row.version);
      const result = await manager.update(
        CredentialVersion,
        { credentialId: row.credentialId, version, state: 'revoked' },
        { state: 'destroyed', ...WIPED, destroyedAt: now },
      );
      if ((result.affected ?? 0) > 0) {
        await deleteFingerprints(manager, row.credentialId, [version]);
        destroyed.push({
          credentialId: row.credentialId,
          version,
          revokedAt: toDate(row.revokedAt as Date | string),
        });
      }
    }
    return destroyed;
  }

  /** Every version of a credential wiped at once (crypto-shred); returns how many. */
  async destroyAll(manager: EntityManager, credentialId: string): Promise<number> {
    const now = await databaseNow(manager);
    const wiped = await manager.update(
      CredentialVersion,
      { credentialId },
      { state: 'destroyed', liveState: null, ...WIPED, destroyedAt: now },
    );
    await deleteFingerprints(manager, credentialId);
    return wiped.affected ?? 0;
  }

  /** The state of every version of the credentials, in version order, by credential id. */
  private async statesOf(
    manager: EntityManager,
    credentialIds: readonly string[],
  ): Promise<Map<string, VersionSnapshot[]>> {
    const rows = await manager.query<
      {
        credentialId: string;
        version: unknown;
        state: string;
        graceUntil: unknown;
        account: string | null;
        retiredAt: unknown;
      }[]
    >(
      'SELECT credential_id AS credentialId, version, state, grace_until AS graceUntil, ' +
        'account, retired_at AS retiredAt ' +
        `FROM credential_versions WHERE credential_id IN (${placeholders(credentialIds)}) ` +
        'ORDER BY credential_id, version',
      [...credentialIds],
    );
    const byCredential = new Map<string, VersionSnapshot[]>();
    for (const row of rows) {
      const versions = byCredential.get(row.credentialId) ?? [];
      versions.push({
        version: Number(row.version),
        state: row.state as VersionState,
        graceUntil: row.graceUntil === null ? null : toDate(row.graceUntil as Date | string),
        account: row.account,
        retiredAt: row.retiredAt === null ? null : toDate(row.retiredAt as Date | string),
      });
      byCredential.set(row.credentialId, versions);
    }
    return byCredential;
  }

  /** Each switch's pending value: as given, else read back and opened (one statement for all). */
  private async pendingSecrets(
    manager: EntityManager,
    switches: readonly Switch[],
  ): Promise<ParsedSecret[]> {
    const missing = switches.filter((s) => !s.secret).map((s) => s.credential.id);
    const live = missing.length > 0 ? await this.liveValues(manager, missing) : undefined;
    return switches.map(
      (s) => s.secret ?? checkedSecret(s.credential.type, live!.value(s.credential.id, s.version)),
    );
  }

  /** New sealed versions, all in one of the states a credential has at most one of. */
  private async insertAll(
    manager: EntityManager,
    values: readonly {
      credential: Pick<Credential, 'id' | 'type'>;
      version: number;
      secret: ParsedSecret;
    }[],
    state: LiveState,
    createdBy: string | null,
  ): Promise<void> {
    const sealed = await this.crypto.sealAll(
      manager,
      values.map(({ credential, version, secret }) => ({
        credentialId: credential.id,
        version,
        type: credential.type,
        secret: secret.value,
      })),
    );
    await manager.insert(
      CredentialVersion,
      values.map(({ credential, version }, i) => {
        const { ciphertext, iv, tag, wrappedDek, kekId, fingerprint } = sealed[i];
        const columns = { ciphertext, iv, tag, wrappedDek, kekId, fingerprint };
        return {
          credentialId: credential.id,
          version,
          state,
          liveState: state,
          ...columns,
          createdBy,
        };
      }),
    );
    await insertFingerprints(
      manager,
      values.map(({ credential, version }, i) => ({
        credentialId: credential.id,
        version,
        fingerprints: sealed[i].fingerprints,
      })),
    );
  }

  /**
   * Deletes the oldest revoked or destroyed of `versions` (all of the credential's, in order)
   * beyond the configured number to keep, never leaving a gap in the numbers kept.
   */
  private async prune(
    manager: EntityManager,
    credentialId: string,
    versions: readonly VersionSnapshot[],
    now: Date,
  ): Promise<number[]> {
    const doomed = versionsToPrune(versions, this.config.maxVersions, now);
    if (doomed.length > 0) {
      await manager.delete(CredentialVersion, { credentialId, version: In(doomed) });
      await deleteFingerprints(manager, credentialId, doomed);
    }
    return doomed;
  }
}

/** A credential's versions as a switch's statements leave them, for pruning. */
function afterSwitch(
  p: { versions: VersionSnapshot[]; version: number; graceUntil: Date | null },
  now: Date,
): VersionSnapshot[] {
  return p.versions.map((v) => {
    if (v.state === 'previous') return { ...v, state: 'revoked' as const };
    if (v.state === 'current') {
      return p.graceUntil
        ? { ...v, state: 'previous' as const, graceUntil: p.graceUntil }
        : { ...v, state: 'revoked' as const, graceUntil: now };
    }
    if (v.version === p.version) return { ...v, state: 'current' as const };
    return v;
  });
}
