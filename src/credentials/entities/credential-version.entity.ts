import { Check, Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/** DESIGN.md §5; rotation adds `pending`. */
export const VERSION_STATES = ['pending', 'current', 'previous', 'revoked', 'destroyed'] as const;
export type VersionState = (typeof VERSION_STATES)[number];

/** The states a credential has at most one version in; `liveState` repeats them for the index. */
export type LiveState = Extract<VersionState, 'current' | 'pending'>;

/**
 * `live_state` equals `state` for a current or pending version and is null otherwise, so the
 * unique index on (credential_id, live_state) lets the database itself refuse a second current
 * or a second pending version. The CHECK says IS NOT NULL: a comparison with NULL is unknown, and
 * a CHECK lets an unknown through. TypeORM skips CHECK constraints on MariaDB, so the migration
 * there creates it by hand with the same expression.
 */
export const LIVE_STATE_CHECK =
  '("state" IN (\'current\', \'pending\') AND "live_state" IS NOT NULL AND "live_state" = "state") OR ' +
  '("state" NOT IN (\'current\', \'pending\') AND "live_state" IS NULL)';

/**
 * One value of a credential, under envelope encryption: the value is encrypted with its own data
 * key, which is wrapped by the master key `kekId`. Destroying a version wipes all four.
 */
@Entity({ name: 'credential_versions' })
@Index('idx_credential_versions_kek', ['kekId'])
@Index('idx_credential_versions_fingerprint', ['fingerprint'])
@Index('uq_credential_versions_live', ['credentialId', 'liveState'], { unique: true })
@Index('idx_credential_versions_state_grace', ['state', 'graceUntil'])
@Index('idx_credential_versions_state_revoked', ['state', 'revokedAt'])
@Index('idx_credential_versions_retire', ['retiredAt', 'account'])
@Check('chk_credential_versions_live', LIVE_STATE_CHECK)
export class CredentialVersion {
  @PrimaryColumn({ name: 'credential_id', type: 'varchar', length: 36 })
  credentialId!: string;

  @PrimaryColumn({ type: 'int' })
  version!: number;

  @Column({ type: 'varchar', length: 16 })
  state!: VersionState;

  @Column({ name: 'live_state', type: 'varchar', length: 8, nullable: true })
  liveState!: LiveState | null;

  @Column({ type: 'blob', nullable: true, select: false })
  ciphertext!: Buffer | null;

  /** base64 of the 12-byte nonce. */
  @Column({ type: 'varchar', length: 16, nullable: true, select: false })
  iv!: string | null;

  /** base64 of the 16-byte GCM tag. */
  @Column({ type: 'varchar', length: 24, nullable: true, select: false })
  tag!: string | null;

  /** base64 of nonce, tag and encrypted data key. */
  @Column({ name: 'wrapped_dek', type: 'varchar', length: 80, nullable: true, select: false })
  wrappedDek!: string | null;

  @Column({ name: 'kek_id', type: 'varchar', length: 32, nullable: true })
  kekId!: string | null;

  /**
   * HMAC of the secret's main field under a key derived from the master key `kekId`, which a
   * restore check recomputes; leak scans read every value's fingerprint from
   * `credential_fingerprints`.
   */
  @Column({ type: 'varchar', length: 64, nullable: true })
  fingerprint!: string | null;

  @Column({ name: 'grace_until', type: 'datetime', precision: 3, nullable: true })
  graceUntil!: Date | null;

  @Column({ name: 'revoked_at', type: 'datetime', precision: 3, nullable: true })
  revokedAt!: Date | null;

  @Column({ name: 'destroyed_at', type: 'datetime', precision: 3, nullable: true })
  destroyedAt!: Date | null;

  @Column({ name: 'created_by', type: 'varchar', length: 36, nullable: true })
  createdBy!: string | null;

  /**
   * The account in the target system this version's value belongs to (a MariaDB user of an
   * alternating pair), written by the rotator that must retire that account once the version
   * leaves service; null when there is nothing to retire. The retire columns below are the
   * rotation module's bookkeeping of that (see rotation/sweeper/version-retirements.ts).
   */
  @Column({ type: 'varchar', length: 255, nullable: true })
  account!: string | null;

  /** When the account was retired (or found to need nothing); null while it is due or n/a. */
  @Column({ name: 'retired_at', type: 'datetime', precision: 3, nullable: true })
  retiredAt!: Date | null;

  /** The token of the instance retiring it right now, until `retireAfter`. */
  @Column({ name: 'retire_claim', type: 'varchar', length: 36, nullable: true })
  retireClaim!: string | null;

  /** Not retired before then: a live claim's expiry, or the backoff after a failure. */
  @Column({ name: 'retire_after', type: 'datetime', precision: 3, nullable: true })
  retireAfter!: Date | null;

  @Column({ name: 'retire_failures', type: 'int', default: 0 })
  retireFailures!: number;

  @CreateDateColumn({ name: 'created_at' })
  createdAt!: Date;
}
