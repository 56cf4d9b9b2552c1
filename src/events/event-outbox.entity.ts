import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * A domain event (`rotation.succeeded`, `credential.expiring`…) for webhooks and the event
 * stream, written in the transaction of the change it reports. Never holds secret material.
 *
 * `seq` is given at insert, not at commit: a transaction holding seq 9 may commit after one
 * holding seq 10, so a reader resuming "after 10" would never see 9. `streamSeq` is what
 * readers resume from (`Last-Event-ID`): the StreamSequencer gives it to committed rows only,
 * consecutively, so its order is the order in which events became visible.
 */
@Entity({ name: 'event_outbox' })
@Index('idx_event_outbox_type_seq', ['type', 'seq'])
@Index('idx_event_outbox_resource_seq', ['resourceId', 'seq'])
@Index('uq_event_outbox_stream_seq', ['streamSeq'], { unique: true })
export class OutboxEvent {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  seq!: string;

  /** Null until the sequencer has seen the row committed. */
  @Column({ name: 'stream_seq', type: 'bigint', nullable: true })
  streamSeq!: string | null;

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
