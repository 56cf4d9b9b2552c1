import { Column, CreateDateColumn, Entity, Index, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import type { CredentialType } from '../secrets/credential-type';

/** A JSON object as stored; nested values are plain JSON too (not spelled out: TypeORM's types recurse). */
export type JsonObject = Record<string, string | number | boolean | null | object>;

/**
 * Where a credential stands with rotation: `none` (no policy), `scheduled` (waits for
 * `nextRotationAt`), `rotating` (a run is open), `awaiting_value` (a manual rotation waits for a
 * person), `failed` (the last run failed; the next attempt is scheduled), `disabled` (a policy
 * that is switched off).
 */
export const ROTATION_STATUSES = [
  'none',
  'scheduled',
  'rotating',
  'awaiting_value',
  'failed',
  'disabled',
] as const;
export type RotationStatus = (typeof ROTATION_STATUSES)[number];

export const CREDENTIAL_STATUSES = ['active', 'deleted', 'destroyed'] as const;
export type CredentialStatus = (typeof CREDENTIAL_STATUSES)[number];

/** What is known about a stored secret, in plaintext; the secret itself is in its versions. */
@Entity({ name: 'credentials' })
@Index('uq_credentials_path', ['path'], { unique: true })
@Index('idx_credentials_status_path', ['status', 'path'])
@Index('idx_credentials_expires_at', ['expiresAt'])
@Index('idx_credentials_next_rotation', ['nextRotationAt'])
export class Credential {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'varchar', length: 255 })
  path!: string;

  @Column({ type: 'varchar', length: 200 })
  name!: string;

  @Column({ type: 'varchar', length: 32 })
  type!: CredentialType;

  @Column({ type: 'varchar', length: 2000, nullable: true })
  description!: string | null;

  @Column({ type: 'varchar', length: 255, nullable: true })
  username!: string | null;

  @Column({ type: 'varchar', length: 2048, nullable: true })
  url!: string | null;

  @Column({ type: 'varchar', length: 255, nullable: true })
  host!: string | null;

  @Column({ type: 'int', nullable: true })
  port!: number | null;

  @Column({ type: 'varchar', length: 255, nullable: true })
  owner!: string | null;

  /** Free JSON from the caller; never secret material (the API says so and the DTO caps it). */
  @Column({ type: 'simple-json', nullable: true })
  metadata!: JsonObject | null;

  /** Non-secret facts read from the current secret (certificate subject, key type…). */
  @Column({ name: 'secret_info', type: 'simple-json', nullable: true })
  secretInfo!: JsonObject | null;

  /** Comma-joined copy of the tags (kept in credential_tags for filtering), for reading back. */
  @Column({ type: 'varchar', length: 1100, default: '' })
  tags!: string;

  @Column({ name: 'expires_at', type: 'datetime', precision: 3, nullable: true })
  expiresAt!: Date | null;

  @Column({ type: 'varchar', length: 16 })
  status!: CredentialStatus;

  @Column({ name: 'current_version', type: 'int' })
  currentVersion!: number;

  /** The highest version number ever given, so numbers are never reused after pruning. */
  @Column({ name: 'last_version', type: 'int' })
  lastVersion!: number;

  /** Bumped on every change to the row: optimistic concurrency for clients and jobs. */
  @Column({ name: 'row_version', type: 'int', default: 1 })
  rowVersion!: number;

  @Column({ name: 'created_by', type: 'varchar', length: 36, nullable: true })
  createdBy!: string | null;

  /** When the scheduler next rotates it (database clock); null without an enabled policy. */
  @Column({ name: 'next_rotation_at', type: 'datetime', precision: 3, nullable: true })
  nextRotationAt!: Date | null;

  @Column({ name: 'rotation_status', type: 'varchar', length: 16, default: 'none' })
  rotationStatus!: RotationStatus;

  /** The `expiresAt` last announced by `credential.expiring`: once per credential per expiry. */
  @Column({ name: 'expiry_warned_for', type: 'datetime', precision: 3, nullable: true })
  expiryWarnedFor!: Date | null;

  /**
   * Planted to catch whoever reveals it (an admin sets it). Never part of any response: a decoy
   * must look like every other credential.
   */
  @Column({ type: 'boolean', default: false, select: false })
  decoy!: boolean;

  @CreateDateColumn({ name: 'created_at' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at' })
  updatedAt!: Date;

  @Column({ name: 'deleted_at', type: 'datetime', precision: 3, nullable: true })
  deletedAt!: Date | null;

  @Column({ name: 'destroyed_at', type: 'datetime', precision: 3, nullable: true })
  destroyedAt!: Date | null;
}
