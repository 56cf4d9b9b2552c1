import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * The head of one lane of the audit chain. A writer locks its lane's head for the length of its
 * transaction; spreading writers over lanes keeps one lock from capping throughput.
 */
@Entity({ name: 'audit_chain_heads' })
export class AuditChainHead {
  @PrimaryColumn({ type: 'smallint' })
  lane!: number;

  @Column({ name: 'last_lane_seq', type: 'bigint', default: 0 })
  lastLaneSeq!: string;

  @Column({ name: 'last_seq', type: 'bigint', nullable: true })
  lastSeq!: string | null;

  @Column({ name: 'last_hash', type: 'varchar', length: 64, nullable: true })
  lastHash!: string | null;
}
