import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * How far the event stream has been fanned out to subscriptions, in one row (id 1). Advanced
 * with a compare-and-set in the transaction that inserts the deliveries, so an event becomes
 * deliveries exactly once, whichever instance fans it out.
 */
@Entity({ name: 'webhook_fanout_cursor' })
export class WebhookFanoutCursor {
  @PrimaryColumn({ type: 'smallint' })
  id!: number;

  @Column({ name: 'last_stream_seq', type: 'bigint' })
  lastStreamSeq!: string;
}
