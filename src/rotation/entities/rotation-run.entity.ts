import { Check, Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** AWS Secrets Manager's protocol; `done` once finished or abandoned. */
export const ROTATION_STEPS = ['create', 'apply', 'test', 'finish', 'done'] as const;
export type RotationStep = (typeof ROTATION_STEPS)[number];

/** `waiting`: a manual rotation waits for a person to write the new value. */
export const RUN_STATUSES = ['running', 'waiting', 'succeeded', 'failed'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const RUN_TRIGGERS = ['schedule', 'manual', 'emergency', 'incident', 'leak'] as const;
export type RunTrigger = (typeof RUN_TRIGGERS)[number];

/**
 * `open_slot` is 'open' while the run is running or waiting and null after, so the unique index
 * on (credential_id, open_slot) lets the database refuse a second open run of a credential (IS NOT
 * NULL: a CHECK lets an unknown comparison with NULL through).
 */
export const OPEN_SLOT_CHECK =
  '("status" IN (\'running\', \'waiting\') AND "open_slot" IS NOT NULL AND "open_slot" = \'open\') OR ' +
  '("status" NOT IN (\'running\', \'waiting\') AND "open_slot" IS NULL)';

/**
 * One rotation of one credential, persisted step by step so any instance can resume it after a
 * crash. Never holds secret material: the new value lives only in the pending version.
 */
@Entity({ name: 'rotation_runs' })
@Index('uq_rotation_runs_open', ['credentialId', 'openSlot'], { unique: true })
@Index('idx_rotation_runs_credential', ['credentialId', 'startedAt'])
@Index('idx_rotation_runs_status_next', ['status', 'nextAttemptAt'])
@Index('idx_rotation_runs_started', ['startedAt'])
@Check('chk_rotation_runs_open', OPEN_SLOT_CHECK)
export class RotationRun {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ name: 'credential_id', type: 'varchar', length: 36 })
  credentialId!: string;

  @Column({ type: 'varchar', length: 32 })
  rotator!: string;

  @Column({ name: 'pending_version', type: 'int', nullable: true })
  pendingVersion!: number | null;

  @Column({ type: 'varchar', length: 16 })
  step!: RotationStep;

  @Column({ type: 'varchar', length: 16 })
  status!: RunStatus;

  @Column({ name: 'open_slot', type: 'varchar', length: 8, nullable: true })
  openSlot!: 'open' | null;

  /** 1-based; each attempt starts again at `create` with a fresh value. */
  @Column({ type: 'int' })
  attempt!: number;

  @Column({ name: 'max_attempts', type: 'int' })
  maxAttempts!: number;

  /** `trigger` is a reserved word in SQL. */
  @Column({ name: 'triggered_by', type: 'varchar', length: 16 })
  trigger!: RunTrigger;

  /** Grace 0: the old value is revoked in the same transaction as the switch. */
  @Column({ type: 'boolean', default: false })
  emergency!: boolean;

  /** The grace period the finish step gives the old current version. */
  @Column({ name: 'grace_seconds', type: 'int' })
  graceSeconds!: number;

  @Column({ type: 'varchar', length: 500, nullable: true })
  reason!: string | null;

  /** Why the last attempt failed: rotator messages, never secret material. */
  @Column({ type: 'varchar', length: 1000, nullable: true })
  error!: string | null;

  /** What the rotator wants known about the run (that the old password stopped at once, say). */
  @Column({ type: 'varchar', length: 500, nullable: true })
  notes!: string | null;

  /** Which instance works on it, until when: an expired claim may be taken over. */
  @Column({ name: 'claimed_by', type: 'varchar', length: 128, nullable: true })
  claimedBy!: string | null;

  @Column({ name: 'claim_expires_at', type: 'datetime', precision: 3, nullable: true })
  claimExpiresAt!: Date | null;

  /** When the next step may run (backoff after a failed attempt). */
  @Column({ name: 'next_attempt_at', type: 'datetime', precision: 3 })
  nextAttemptAt!: Date;

  /** A waiting manual run is overdue from then on. */
  @Column({ name: 'overdue_at', type: 'datetime', precision: 3, nullable: true })
  overdueAt!: Date | null;

  @Column({ name: 'requested_by', type: 'varchar', length: 36, nullable: true })
  requestedBy!: string | null;

  @Column({ name: 'started_at', type: 'datetime', precision: 3 })
  startedAt!: Date;

  @Column({ name: 'updated_at', type: 'datetime', precision: 3 })
  updatedAt!: Date;

  @Column({ name: 'finished_at', type: 'datetime', precision: 3, nullable: true })
  finishedAt!: Date | null;
}
