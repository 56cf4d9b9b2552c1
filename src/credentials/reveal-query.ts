import { Dialect, SqlFragment, toDate, utcNowSql } from '../database/dialect';
import type { Credential } from './entities/credential.entity';
import type { CredentialVersion } from './entities/credential-version.entity';

/** What a reveal needs of the credential: where it is and whether it is there at all. */
export type RevealCredential = Pick<
  Credential,
  'id' | 'path' | 'type' | 'status' | 'currentVersion' | 'decoy'
>;

/**
 * A version with its sealed value: only the reveal ever loads these columns. `username` is the
 * login its value goes with: the credential's for the current version, the account a rotator
 * recorded for an older one (an alternating pair switches users), read in the same statement so
 * that a service never gets one version's password with another's user.
 */
export type RevealVersion = Pick<
  CredentialVersion,
  'version' | 'state' | 'graceUntil' | 'ciphertext' | 'iv' | 'tag' | 'wrappedDek' | 'kekId'
> & { username: string | null };

export interface RevealLoad {
  credential: RevealCredential | null;
  /** The version asked for (the current one unless named). */
  version: number;
  row: RevealVersion | null;
  /** The caller's grants column (see AccessPolicy.grantsColumn), when it was asked for. */
  grants: unknown;
  /**
   * The database clock when the row was read: grace periods are written from it, so whether a
   * previous version is still in its grace is judged by it too, never by this process's clock.
   */
  now: Date;
}

interface Row {
  id: string;
  path: string;
  type: Credential['type'];
  status: Credential['status'];
  currentVersion: number;
  decoy: number | boolean | string;
  version: number | null;
  state: CredentialVersion['state'] | null;
  graceUntil: Date | string | null;
  ciphertext: Buffer | null;
  iv: string | null;
  tag: string | null;
  wrappedDek: string | null;
  kekId: string | null;
  username: string | null;
  grants?: unknown;
  dbNow: Date | string;
}

/**
 * The credential, the version to reveal and the caller's grants in one statement: this is the
 * hot path of every service, and each round trip costs about as much CPU as the rest of the
 * request. Nothing is decrypted before the caller is authorized.
 */
export function revealQuery(
  dialect: Dialect,
  where: { id: string } | { path: string },
  requested: number | undefined,
  grants: SqlFragment | null,
): SqlFragment & { read(rows: unknown[]): RevealLoad } {
  const version = requested === undefined ? 'c.current_version' : '?';
  const sql =
    'SELECT c.id, c.path, c.type, c.status, c.current_version AS currentVersion, c.decoy, ' +
    'v.version, v.state, v.grace_until AS graceUntil, v.ciphertext, v.iv, v.tag, ' +
    'v.wrapped_dek AS wrappedDek, v.kek_id AS kekId, ' +
    'CASE WHEN v.version = c.current_version THEN c.username ' +
    `ELSE COALESCE(v.account, c.username) END AS username${grants ? `, ${grants.sql} AS grants` : ''}, ` +
    `${utcNowSql(dialect)} AS dbNow ` +
    'FROM credentials c LEFT JOIN credential_versions v ' +
    `ON v.credential_id = c.id AND v.version = ${version} ` +
    `WHERE ${'id' in where ? 'c.id' : 'c.path'} = ?`;
  const parameters: unknown[] = [
    ...(grants?.parameters ?? []),
    ...(requested === undefined ? [] : [requested]),
    'id' in where ? where.id : where.path,
  ];
  return {
    sql,
    parameters,
    read(rows) {
      const [found] = rows as Row[];
      if (!found) {
        return {
          credential: null,
          version: requested ?? 0,
          row: null,
          grants: null,
          now: new Date(),
        };
      }
      const credential: RevealCredential = {
        id: found.id,
        path: found.path,
        type: found.type,
        status: found.status,
        currentVersion: Number(found.currentVersion),
        // tinyint from MariaDB, 0/1 from SQLite.
        decoy: found.decoy === true || Number(found.decoy) === 1,
      };
      const row: RevealVersion | null =
        found.version === null || found.state === null
          ? null
          : {
              version: Number(found.version),
              state: found.state,
              graceUntil: found.graceUntil === null ? null : toDate(found.graceUntil),
              ciphertext: found.ciphertext,
              iv: found.iv,
              tag: found.tag,
              wrappedDek: found.wrappedDek,
              kekId: found.kekId,
              username: found.username,
            };
      return {
        credential,
        version: requested ?? credential.currentVersion,
        row,
        grants: found.grants ?? null,
        now: toDate(found.dbNow),
      };
    },
  };
}
