import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * A domain event (`rotation.succeeded`, `credential.expiring`…) for webhooks and the event
 * stream, written in the transaction of the change it reports. `seq` orders the stream and is
 * what a client resumes from (`Last-Event-ID`). Never holds secret material.
 */
@Entity({ name: 'event_outbox' })
@Index('idx_event_outbox_type_seq', ['type', 'seq'])
@Index('idx_event_outbox_resource_seq', ['resourceId', 'seq'])
export class OutboxEvent {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  seq!: string;

  @Column({ type: 'varchar', length: 64 })
  type!: string;

  @Column({ name: 'resource_type', type: 'varchar', length: 32 })
  resourceType!: string;

  @Column({ name: 'resource_id', type: 'varchar', length: 36 })
  resourceId!: string;

  /** The credential path at the time, so consumers can filter by grant without a join. */
  @Column({ type: 'varchar', length: 255, nullable: true })
  path!: string | null;

  @Column({ type: 'text' })
  payload!: string;

  @CreateDateColumn({ name: 'created_at' })
  createdAt!: Date;
}
