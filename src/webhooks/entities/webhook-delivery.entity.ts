import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * `pending`: not tried yet; `failed`: the last attempt failed and another follows at
 * `next_attempt_at`; `succeeded`: a 2xx came back; `dead`: given up (attempts spent, or the
 * address refused), kept for inspection and redelivery.
 */
export const DELIVERY_STATUSES = ['pending', 'failed', 'succeeded', 'dead'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/**
 * One event for one subscription, and how sending it went. The event itself is copied in
 * (`payload`, never secret material), so a redelivery sends what the first delivery sent.
 */
@Entity({ name: 'webhook_deliveries' })
@Index('idx_webhook_deliveries_due', ['status', 'nextAttemptAt'])
@Index('idx_webhook_deliveries_subscription', ['subscriptionId', 'createdAt'])
export class WebhookDelivery {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ name: 'subscription_id', type: 'varchar', length: 36 })
  subscriptionId!: string;

  /** The event's stream sequence: its id for receivers. */
  @Column({ name: 'stream_seq', type: 'bigint' })
  streamSeq!: string;

  @Column({ name: 'event_type', type: 'varchar', length: 64 })
  eventType!: string;

  /** The event as receivers get it (JSON). */
  @Column({ type: 'text' })
  payload!: string;

  @Column({ type: 'varchar', length: 16 })
  status!: DeliveryStatus;

  @Column({ type: 'int', default: 0 })
  attempts!: number;

  /** When it may be tried (again); meaningless once succeeded or dead. */
  @Column({ name: 'next_attempt_at', type: 'datetime', precision: 3 })
  nextAttemptAt!: Date;

  /** Which instance is sending it, until when: an expired claim may be taken over. */
  @Column({ name: 'claimed_by', type: 'varchar', length: 128, nullable: true })
  claimedBy!: string | null;

  @Column({ name: 'claim_expires_at', type: 'datetime', precision: 3, nullable: true })
  claimExpiresAt!: Date | null;

  @Column({ name: 'last_status_code', type: 'int', nullable: true })
  lastStatusCode!: number | null;

  /** Why the last attempt failed: a status, a timeout, a refusal; never a body or a secret. */
  @Column({ name: 'last_error', type: 'varchar', length: 500, nullable: true })
  lastError!: string | null;

  /** The delivery this one sends again (POST …/redeliver). */
  @Column({ name: 'redelivery_of', type: 'varchar', length: 36, nullable: true })
  redeliveryOf!: string | null;

  @Column({ name: 'delivered_at', type: 'datetime', precision: 3, nullable: true })
  deliveredAt!: Date | null;

  @Column({ name: 'created_at', type: 'datetime', precision: 3 })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'datetime', precision: 3 })
  updatedAt!: Date;
}
