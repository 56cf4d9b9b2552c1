import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { AuditRequestContext } from '../audit/audit-context';
import { AuditWriter } from '../audit/audit-writer';
import { databaseNow, dialectOf, timestampParam } from '../database/dialect';
import type { KeysetPage } from '../database/keyset-page';
import { TransactionRunner } from '../database/transaction-runner';
import {
  DELIVERY_CURSOR,
  DELIVERY_PAGE_DEFAULT,
  DELIVERY_PAGE_MAX,
  DeliveryListQueryDto,
} from './dto/webhook-delivery.dto';
import { WebhookDelivery } from './entities/webhook-delivery.entity';
import { WebhookSubscription } from './entities/webhook-subscription.entity';
import { DeliveryInFlightError, WebhookNotFoundError } from './webhook.errors';

/** A subscription's deliveries, newest first, and sending one again. */
@Injectable()
export class WebhookDeliveriesService {
  constructor(
    private readonly transactions: TransactionRunner,
    private readonly audit: AuditWriter,
  ) {}

  list(subscriptionId: string, query: DeliveryListQueryDto): Promise<KeysetPage<WebhookDelivery>> {
    const limit = Math.min(query.limit ?? DELIVERY_PAGE_DEFAULT, DELIVERY_PAGE_MAX);
    return this.transactions.read(async (manager) => {
      await this.subscriptionMustExist(manager, subscriptionId);
      const builder = manager
        .createQueryBuilder(WebhookDelivery, 'd')
        .where('d.subscriptionId = :subscriptionId', { subscriptionId })
        .orderBy('d.createdAt', 'DESC')
        .addOrderBy('d.id', 'DESC')
        .take(limit + 1);
      if (query.status) builder.andWhere('d.status = :status', { status: query.status });
      const after = DELIVERY_CURSOR.decode(query.cursor);
      if (after !== undefined) {
        const [time, id] = after.split('|');
        const at = timestampParam(dialectOf(manager), new Date(time));
        builder.andWhere('(d.createdAt < :at OR (d.createdAt = :at AND d.id < :id))', { at, id });
      }
      const rows = await builder.getMany();
      const items = rows.slice(0, limit);
      const last = items[items.length - 1];
      return {
        items,
        nextCursor:
          rows.length > limit
            ? DELIVERY_CURSOR.encode(`${last.createdAt.toISOString()}|${last.id}`)
            : null,
      };
    });
  }

  /**
   * The same event again, as a new delivery (its own id and attempts) that the dispatcher sends
   * at once; the original keeps its history. Only a finished delivery (succeeded or dead) may be
   * sent again: one still on its way would race its copy.
   */
  redeliver(
    subscriptionId: string,
    deliveryId: string,
    context?: AuditRequestContext,
  ): Promise<WebhookDelivery> {
    return this.transactions.run(async (manager) => {
      await this.subscriptionMustExist(manager, subscriptionId);
      const original = await manager.findOneBy(WebhookDelivery, { id: deliveryId, subscriptionId });
      if (!original) throw new WebhookNotFoundError('Delivery');
      if (original.status === 'pending' || original.status === 'failed') {
        throw new DeliveryInFlightError(original.status);
      }
      const now = await databaseNow(manager);
      const id = randomUUID();
      await manager.insert(WebhookDelivery, {
        id,
        subscriptionId,
        streamSeq: original.streamSeq,
        eventType: original.eventType,
        payload: original.payload,
        status: 'pending',
        attempts: 0,
        nextAttemptAt: now,
        claimedBy: null,
        claimExpiresAt: null,
        lastStatusCode: null,
        lastError: null,
        redeliveryOf: original.id,
        deliveredAt: null,
        createdAt: now,
        updatedAt: now,
      });
      await this.audit.record(
        {
          action: 'webhook.delivery.redeliver',
          outcome: 'success',
          httpStatus: 202,
          resourceType: 'webhook',
          resourceId: subscriptionId,
          details: {
            deliveryId: original.id,
            redeliveryId: id,
            eventId: String(original.streamSeq),
            eventType: original.eventType,
          },
          context,
        },
        manager,
      );
      return manager.findOneByOrFail(WebhookDelivery, { id });
    });
  }

  private async subscriptionMustExist(manager: EntityManager, id: string): Promise<void> {
    if (!(await manager.existsBy(WebhookSubscription, { id }))) throw new WebhookNotFoundError();
  }
}
