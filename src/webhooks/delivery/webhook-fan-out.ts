import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { matchesType, typeFilterOf } from '../../events/event-type-filter';
import { OutboxReader, StreamEvent } from '../../events/outbox-reader';
import { databaseNow } from '../../database/dialect';
import { TransactionRunner } from '../../database/transaction-runner';
import { WebhookDelivery } from '../entities/webhook-delivery.entity';
import { WebhookFanoutCursor } from '../entities/webhook-fanout-cursor.entity';
import { WebhookSubscription } from '../entities/webhook-subscription.entity';
import { eventPayload } from './delivery-body';

/** Events read per pass. */
export const FANOUT_BATCH = 500;
const INSERT_CHUNK = 200;

type Listener = Pick<WebhookSubscription, 'id' | 'events' | 'startStreamSeq'>;

/**
 * Turns the event stream into deliveries: each event after the cursor, for each active
 * subscription whose patterns match it and that existed before it (start_stream_seq). The stream
 * is gap-free (OutboxReader), so reading after the cursor misses nothing; the cursor moves with
 * a compare-and-set in the transaction that inserts the deliveries, so when two instances read
 * the same events only one inserts them. Every instance may run it.
 */
@Injectable()
export class WebhookFanOut {
  constructor(
    private readonly transactions: TransactionRunner,
    private readonly stream: OutboxReader,
  ) {}

  /** One batch; how many events it moved the cursor past (0: up to date, or lost a race). */
  async pass(): Promise<number> {
    const cursor = await this.cursor();
    const events = await this.stream.after(cursor, FANOUT_BATCH);
    if (events.length === 0) return 0;
    // In this order: a subscription created after `latest` was read starts after it, and one
    // created before is among `listeners`, so skipping ahead never skips an event one wants.
    const latest = await this.stream.latest();
    const listeners = await this.listeners();
    if (listeners.length === 0) {
      return (await this.advance(cursor, maxSeq(latest, last(events)), [])) ? events.length : 0;
    }
    return (await this.advance(cursor, last(events), deliveriesOf(events, listeners)))
      ? events.length
      : 0;
  }

  /** Moves the cursor from `from` to `to` and inserts the deliveries, or nothing if it moved. */
  private advance(
    from: string,
    to: string,
    deliveries: Pick<WebhookDelivery, 'subscriptionId' | 'streamSeq' | 'eventType' | 'payload'>[],
  ): Promise<boolean> {
    return this.transactions.run(async (manager) => {
      const moved = await manager
        .createQueryBuilder()
        .update(WebhookFanoutCursor)
        .set({ lastStreamSeq: to })
        .where('id = 1 AND last_stream_seq = :from', { from })
        .execute();
      if (!moved.affected) return false;
      const now = await databaseNow(manager);
      const rows = deliveries.map((d) => ({
        ...d,
        id: randomUUID(),
        status: 'pending' as const,
        attempts: 0,
        nextAttemptAt: now,
        createdAt: now,
        updatedAt: now,
      }));
      for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
        await manager.insert(WebhookDelivery, rows.slice(i, i + INSERT_CHUNK));
      }
      return true;
    });
  }

  private async cursor(): Promise<string> {
    const row = await this.transactions.read((manager) =>
      manager.findOneBy(WebhookFanoutCursor, { id: 1 }),
    );
    if (!row) throw new Error('webhook_fanout_cursor has no row: run the migrations');
    return String(row.lastStreamSeq);
  }

  private listeners(): Promise<Listener[]> {
    return this.transactions.read((manager) =>
      manager.find(WebhookSubscription, {
        select: { id: true, events: true, startStreamSeq: true },
        where: { active: true },
      }),
    );
  }
}

function deliveriesOf(events: StreamEvent[], listeners: Listener[]) {
  const filters = listeners.map((l) => ({
    id: l.id,
    start: BigInt(l.startStreamSeq),
    types: typeFilterOf(l.events),
  }));
  return events.flatMap((event) =>
    filters
      .filter((f) => BigInt(event.streamSeq) > f.start && matchesType(f.types, event.type))
      .map((f) => ({
        subscriptionId: f.id,
        streamSeq: event.streamSeq,
        eventType: event.type,
        payload: eventPayload(event),
      })),
  );
}

function last(events: StreamEvent[]): string {
  return events[events.length - 1].streamSeq;
}

function maxSeq(a: string, b: string): string {
  return BigInt(a) > BigInt(b) ? a : b;
}
