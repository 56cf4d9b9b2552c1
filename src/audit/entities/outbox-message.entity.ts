import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * A message waiting for one sink, written in the same transaction as the event it carries so a
 * sink sees only committed events; deleted once delivered.
 */
@Entity({ name: 'outbox' })
@Index('idx_outbox_sink_id', ['sink', 'id'])
export class OutboxMessage {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ type: 'varchar', length: 32 })
  sink!: string;

  @Column({ type: 'varchar', length: 64 })
  topic!: string;

  @Column({ type: 'text' })
  payload!: string;

  @Column({ type: 'int', default: 0 })
  attempts!: number;

  @Column({ name: 'next_attempt_at', type: 'datetime', precision: 3, nullable: true })
  nextAttemptAt!: Date | null;

  @Column({ name: 'last_error', type: 'varchar', length: 512, nullable: true })
  lastError!: string | null;

  @CreateDateColumn({ name: 'created_at' })
  createdAt!: Date;
}
