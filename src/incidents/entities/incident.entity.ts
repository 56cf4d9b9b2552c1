import { Column, Entity, Index, PrimaryColumn, VersionColumn } from 'typeorm';
import type { IncidentSeverity, IncidentStatus, IncidentType } from '../incident-vocabulary';

/**
 * A security incident from detection to resolution. `dedupe_slot` holds the dedupe key while the
 * incident is the one detections with that key join (open and not superseded), else null: the
 * unique index on it lets the database refuse a second such incident when two detectors fire at
 * once, like rotation_runs.open_slot does for runs.
 */
@Entity({ name: 'incidents' })
@Index('uq_incidents_dedupe_slot', ['dedupeSlot'], { unique: true })
@Index('idx_incidents_detected', ['detectedAt'])
@Index('idx_incidents_status_detected', ['status', 'detectedAt'])
export class Incident {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'varchar', length: 32 })
  type!: IncidentType;

  @Column({ type: 'varchar', length: 16 })
  severity!: IncidentSeverity;

  @Column({ type: 'varchar', length: 16 })
  status!: IncidentStatus;

  @Column({ type: 'varchar', length: 200 })
  title!: string;

  @Column({ type: 'text', nullable: true })
  description!: string | null;

  @Column({ type: 'text', nullable: true })
  findings!: string | null;

  /** Remediation steps, as the team writes them. */
  @Column({ type: 'text', nullable: true })
  remediation!: string | null;

  /** The affected client or service, free text (MSPs name their customer here). */
  @Column({ type: 'varchar', length: 500, nullable: true })
  affected!: string | null;

  @Column({ name: 'assignee_id', type: 'varchar', length: 36, nullable: true })
  assigneeId!: string | null;

  @Column({ name: 'detected_at', type: 'datetime', precision: 3 })
  detectedAt!: Date;

  @Column({ name: 'contained_at', type: 'datetime', precision: 3, nullable: true })
  containedAt!: Date | null;

  @Column({ name: 'resolved_at', type: 'datetime', precision: 3, nullable: true })
  resolvedAt!: Date | null;

  @Column({ name: 'dedupe_key', type: 'varchar', length: 191, nullable: true })
  dedupeKey!: string | null;

  @Column({ name: 'dedupe_slot', type: 'varchar', length: 191, nullable: true })
  dedupeSlot!: string | null;

  /** Reveals of the linked credentials are refused (admins excepted) while this is set and the
   * incident is investigating or contained. */
  @Column({ name: 'freeze_reveals', type: 'boolean', default: false })
  freeze!: boolean;

  /** The user who opened it; null when a detector did. */
  @Column({ name: 'created_by', type: 'varchar', length: 64, nullable: true })
  createdBy!: string | null;

  @Column({ name: 'created_at', type: 'datetime', precision: 3 })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'datetime', precision: 3 })
  updatedAt!: Date;

  /** Optimistic concurrency for PATCH (If-Match), like credentials. */
  @VersionColumn({ name: 'row_version' })
  rowVersion!: number;
}
