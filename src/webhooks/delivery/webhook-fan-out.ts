import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
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
 * subscription whose patterns match it and whose start is before it (start_stream_seq). The
 * stream is gap-free (OutboxReader), so reading after the cursor misses nothing; the cursor moves
 * with a compare-and-set in the transaction that inserts the deliveries, so when two instances
 * read the same events only one inserts them. The subscriptions are read in that transaction,
 * after the cursor row is locked, and a new subscription starts at the cursor read under the same
 * lock: a subscription either exists for a batch or starts after it, never falls in between.
 * Every instance may run it.
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
    return (await this.advance(cursor, events)) ? events.length : 0;
  }

  /** Moves the cursor from `from` past `events` and inserts their deliveries, or does nothing. */
  private advance(from: string, events: StreamEvent[]): Promise<boolean> {
    return this.transactions.run(async (manager) => {
      const moved = await manager
        .createQueryBuilder()
        .update(WebhookFanoutCursor)
        .set({ lastStreamSeq: last(events) })
        .where('id = 1 AND last_stream_seq = :from', { from })
        .execute();
      if (!moved.affected) return false;
      const listeners = await this.listeners(manager);
      if (listeners.length === 0) {
        // Nobody listens, and whoever subscribes next starts at the cursor: skip what is there.
        const latest = await this.stream.latest(manager);
        if (BigInt(latest) > BigInt(last(events))) {
          await manager.update(WebhookFanoutCursor, { id: 1 }, { lastStreamSeq: latest });
        }
        return true;
      }
      const now = await databaseNow(manager);
      const rows = deliveriesOf(events, listeners).map((d) => ({
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
    }, 'READ COMMITTED');
  }

  private async cursor(): Promise<string> {
    const row = await this.transactions.read((manager) =>
      manager.findOneBy(WebhookFanoutCursor, { id: 1 }),
    );
    if (!row) throw new Error('webhook_fanout_cursor has no row: run the migrations');
    return String(row.lastStreamSeq);
  }

  private listeners(manager: EntityManager): Promise<Listener[]> {
    return manager.find(WebhookSubscription, {
      select: { id: true, events: true, startStreamSeq: true },
      where: { active: true },
    });
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
