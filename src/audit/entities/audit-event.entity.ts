import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export const AUDIT_ACTOR_TYPES = ['user', 'service', 'system', 'anonymous'] as const;
export type AuditActorType = (typeof AUDIT_ACTOR_TYPES)[number];
export const AUDIT_OUTCOMES = ['success', 'denied', 'invalid', 'error'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

/**
 * One audited fact. Append-only: triggers refuse UPDATE and DELETE. Each row is chained to the
 * previous row of its lane by an HMAC (see audit-chain.ts); `seq` orders all lanes globally.
 */
@Entity({ name: 'audit_events' })
@Index('uq_audit_events_lane_seq', ['lane', 'laneSeq'], { unique: true })
@Index('idx_audit_events_occurred_at', ['occurredAt'])
@Index('idx_audit_events_action', ['action'])
@Index('idx_audit_events_actor', ['actorId'])
@Index('idx_audit_events_resource', ['resourceType', 'resourceId'])
// Who revealed a credential in a time range (rotation adoption), without reading its history.
@Index('idx_audit_events_resource_action_time', ['resourceId', 'action', 'occurredAt'])
// What one principal revealed in a time range (incident blast radius, mass-reveal detector).
@Index('idx_audit_events_actor_action_time', ['actorId', 'action', 'occurredAt'])
export class AuditEvent {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  seq!: string;

  @Column({ type: 'smallint' })
  lane!: number;

  @Column({ name: 'lane_seq', type: 'bigint' })
  laneSeq!: string;

  @Column({ name: 'occurred_at', type: 'datetime', precision: 3 })
  occurredAt!: Date;

  @Column({ name: 'actor_type', type: 'varchar', length: 16 })
  actorType!: AuditActorType;

  @Column({ name: 'actor_id', type: 'varchar', length: 64, nullable: true })
  actorId!: string | null;

  @Column({ name: 'actor_display', type: 'varchar', length: 255, nullable: true })
  actorDisplay!: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  ip!: string | null;

  @Column({ name: 'user_agent', type: 'varchar', length: 512, nullable: true })
  userAgent!: string | null;

  @Column({ name: 'request_id', type: 'varchar', length: 128, nullable: true })
  requestId!: string | null;

  @Column({ type: 'varchar', length: 128 })
  action!: string;

  @Column({ name: 'resource_type', type: 'varchar', length: 64, nullable: true })
  resourceType!: string | null;

  @Column({ name: 'resource_id', type: 'varchar', length: 191, nullable: true })
  resourceId!: string | null;

  @Column({ type: 'varchar', length: 16 })
  outcome!: AuditOutcome;

  @Column({ name: 'http_status', type: 'smallint', nullable: true })
  httpStatus!: number | null;

  /** Canonical JSON of the sanitized details, exactly as hashed. */
  @Column({ type: 'text' })
  details!: string;

  /** Which master key the chain key of this row was derived from. */
  @Column({ name: 'key_id', type: 'varchar', length: 32 })
  keyId!: string;

  @Column({ name: 'prev_hash', type: 'varchar', length: 64, nullable: true })
  prevHash!: string | null;

  @Column({ type: 'varchar', length: 64 })
  hash!: string;
}
