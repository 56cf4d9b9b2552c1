import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** A signed statement of every lane's head at one moment; append-only like the events. */
@Entity({ name: 'audit_checkpoints' })
export class AuditCheckpoint {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ name: 'created_at', type: 'datetime', precision: 3 })
  createdAt!: Date;

  @Column({ name: 'head_seq', type: 'bigint', nullable: true })
  headSeq!: string | null;

  /** Canonical JSON `[[lane, laneSeq, hash], …]`, exactly as signed. */
  @Column({ type: 'text' })
  lanes!: string;

  @Column({ name: 'key_id', type: 'varchar', length: 32 })
  keyId!: string;

  @Column({ type: 'varchar', length: 64 })
  signature!: string;
}
