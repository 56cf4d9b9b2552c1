import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { AuditActorType } from '../../audit/entities/audit-event.entity';
import type { TimelineKind } from '../incident-vocabulary';

/**
 * One line of an incident's story. `seq` numbers an incident's entries in order (given under the
 * incident's row lock); `audit_seq` is the audit event written with it in the same transaction,
 * which seals the row's content. The table is append-only (triggers), and TimelineReader checks
 * each row against its event, so the timeline shares the audit chain's tamper evidence.
 */
@Entity({ name: 'incident_timeline' })
@Index('uq_incident_timeline_seq', ['incidentId', 'seq'], { unique: true })
export class IncidentTimelineEntry {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ name: 'incident_id', type: 'varchar', length: 36 })
  incidentId!: string;

  @Column({ type: 'int' })
  seq!: number;

  @Column({ type: 'varchar', length: 16 })
  kind!: TimelineKind;

  @Column({ name: 'actor_type', type: 'varchar', length: 16 })
  actorType!: AuditActorType;

  @Column({ name: 'actor_id', type: 'varchar', length: 64, nullable: true })
  actorId!: string | null;

  @Column({ name: 'actor_display', type: 'varchar', length: 255, nullable: true })
  actorDisplay!: string | null;

  @Column({ type: 'varchar', length: 4000, nullable: true })
  text!: string | null;

  /** Facts as JSON (ids, states, outcomes); never secret values. */
  @Column({ type: 'text' })
  details!: string;

  @Column({ name: 'audit_seq', type: 'bigint' })
  auditSeq!: string;

  @Column({ name: 'occurred_at', type: 'datetime', precision: 3 })
  occurredAt!: Date;
}
