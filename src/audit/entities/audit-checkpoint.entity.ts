import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { CheckpointAlgorithm } from '../chain/checkpoint-signature';

/** A signed statement of every lane's head at one moment; append-only like the events. */
@Entity({ name: 'audit_checkpoints' })
export class AuditCheckpoint {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ name: 'created_at', type: 'datetime', precision: 3 })
  createdAt!: Date;

  @Column({ name: 'head_seq', type: 'bigint', nullable: true })
  headSeq!: string | null;

  /** Canonical JSON `[[lane, laneSeq, seq, hash], …]`, in lane order. */
  @Column({ type: 'text' })
  lanes!: string;

  @Column({ name: 'key_id', type: 'varchar', length: 32 })
  keyId!: string;

  /** `Ed25519` (base64 signature); rows from before it was introduced: `HMAC-SHA256` (hex). */
  @Column({ type: 'varchar', length: 16 })
  algorithm!: CheckpointAlgorithm;

  @Column({ type: 'varchar', length: 128 })
  signature!: string;
}
