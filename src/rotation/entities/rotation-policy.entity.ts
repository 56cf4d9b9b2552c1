import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  PrimaryColumn,
  UpdateDateColumn,
} from 'typeorm';
import type { JsonObject } from '../../credentials/entities/credential.entity';

/** `{days?, start, duration}`: runs may start only from `start` (UTC, HH:MM) for `duration`. */
export interface RotationWindow {
  /** Days of the week the window opens on (`mon`…`sun`); every day when absent. */
  days?: string[];
  start: string;
  duration: string;
}

/**
 * A rotation policy, either of one credential (`credentialId`) or of every credential under a
 * path pattern without a policy of its own (`pathPattern`). Durations are ISO 8601 strings as
 * given; at most one of `rotateEvery` and `schedule` is set. Neither, or no `gracePeriod`: the
 * defaults of the credential's type (ROTATION_DEFAULTS), read when the policy is applied.
 */
@Entity({ name: 'rotation_policies' })
@Index('uq_rotation_policies_credential', ['credentialId'], { unique: true })
@Index('uq_rotation_policies_pattern', ['pathPattern'], { unique: true })
@Check('chk_rotation_policies_target', '("credential_id" IS NULL) <> ("path_pattern" IS NULL)')
export class RotationPolicy {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ name: 'credential_id', type: 'varchar', length: 36, nullable: true })
  credentialId!: string | null;

  @Column({ name: 'path_pattern', type: 'varchar', length: 255, nullable: true })
  pathPattern!: string | null;

  @Column({ type: 'boolean' })
  enabled!: boolean;

  /** ISO 8601 duration between rotations (`interval` is a reserved word in SQL). */
  @Column({ name: 'rotate_every', type: 'varchar', length: 32, nullable: true })
  rotateEvery!: string | null;

  /** Five-field cron expression, UTC. */
  @Column({ type: 'varchar', length: 120, nullable: true })
  schedule!: string | null;

  @Column({ name: 'rotation_window', type: 'simple-json', nullable: true })
  window!: RotationWindow | null;

  @Column({ name: 'grace_period', type: 'varchar', length: 32, nullable: true })
  gracePeriod!: string | null;

  /** Shifts every due time, so that paired credentials never rotate at the same moment. */
  @Column({ name: 'schedule_offset', type: 'varchar', length: 32, nullable: true })
  offset!: string | null;

  /** `{kind, …settings}` as validated by the rotator's settings class. */
  @Column({ type: 'simple-json' })
  rotator!: JsonObject & { kind: string };

  @Column({ type: 'simple-json', nullable: true })
  generator!: JsonObject | null;

  /** End the old version's grace once every known consumer has revealed the new one. */
  @Column({ name: 'end_grace_on_full_adoption', type: 'boolean', default: false })
  endGraceOnFullAdoption!: boolean;

  @Column({ name: 'created_by', type: 'varchar', length: 36, nullable: true })
  createdBy!: string | null;

  @CreateDateColumn({ name: 'created_at' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at' })
  updatedAt!: Date;
}
