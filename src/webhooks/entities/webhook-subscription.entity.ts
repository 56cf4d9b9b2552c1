import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/**
 * An HTTPS endpoint that hears of the events it names (`rotation.*`, `credential.expiring`).
 * Its signing secret is sealed under the master key's `webhook` purpose key, bound to the
 * subscription's id, and never selected unless a delivery signs with it.
 */
@Entity({ name: 'webhook_subscriptions' })
export class WebhookSubscription {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'varchar', length: 2048 })
  url!: string;

  @Column({ type: 'varchar', length: 500, nullable: true })
  description!: string | null;

  /** Event type patterns: exact types, `prefix.*`, or `*`. */
  @Column({ type: 'simple-json' })
  events!: string[];

  @Column({ type: 'boolean' })
  active!: boolean;

  /** `<key id>:<sealed>` (KeyringService.sealValue). */
  @Column({ name: 'secret_sealed', type: 'varchar', length: 255, select: false })
  secretSealed!: string;

  /**
   * The stream sequence when it was created: it hears of events numbered after it, not of the
   * history before.
   */
  @Column({ name: 'start_stream_seq', type: 'bigint' })
  startStreamSeq!: string;

  @Column({ name: 'created_by', type: 'varchar', length: 36, nullable: true })
  createdBy!: string | null;

  @CreateDateColumn({ name: 'created_at' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at' })
  updatedAt!: Date;
}
