import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { AuditRequestContext } from '../audit/audit-context';
import { AuditWriter } from '../audit/audit-writer';
import type { Principal } from '../common/auth/principal';
import { RequestValidationError } from '../common/validation/request-validation.error';
import { KeyringService } from '../crypto/keyring.service';
import { rowLock } from '../database/dialect';
import { keysetPage, KeysetPage } from '../database/keyset-page';
import { TransactionRunner } from '../database/transaction-runner';
import { OutboundGuard } from '../outbound/outbound-guard';
import { OutboundRefusedError } from '../outbound/outbound.errors';
import {
  WEBHOOK_CURSOR,
  WEBHOOK_PAGE_DEFAULT,
  WEBHOOK_PAGE_MAX,
  WebhookCreateDto,
  WebhookUpdateDto,
} from './dto/webhook-subscription.dto';
import { WebhookDelivery } from './entities/webhook-delivery.entity';
import { WebhookFanoutCursor } from './entities/webhook-fanout-cursor.entity';
import { WebhookSubscription } from './entities/webhook-subscription.entity';
import { WebhookNotFoundError } from './webhook.errors';
import { generateWebhookSecret, webhookSecretAad } from './webhook-secret';

export interface SubscriptionWithSecret {
  subscription: WebhookSubscription;
  /** Plaintext, for the one answer that shows it. */
  secret: string;
}

/**
 * Webhook subscriptions (admin only). A URL is checked by the outbound guard when it is given, so
 * a literal internal address is a 400 at once; names are checked again at every delivery, against
 * what they resolve to then. Every change is audited in its own transaction; no audit event holds
 * the secret or the full URL (a URL may carry a token of the receiver's).
 */
@Injectable()
export class WebhookSubscriptionsService {
  constructor(
    private readonly transactions: TransactionRunner,
    private readonly audit: AuditWriter,
    private readonly keyring: KeyringService,
    private readonly guard: OutboundGuard,
  ) {}

  async create(
    input: WebhookCreateDto,
    principal: Principal,
    context?: AuditRequestContext,
  ): Promise<SubscriptionWithSecret> {
    const host = this.checkedHost(input.url);
    const id = randomUUID();
    const secret = generateWebhookSecret();
    return this.transactions.run(async (manager) => {
      const active = input.active ?? true;
      // Where the fan-out stands, read under its lock: a fan-out batch either commits before this
      // (and the subscription starts after it) or reads the subscriptions after this commits.
      const cursor = await manager.findOne(WebhookFanoutCursor, {
        where: { id: 1 },
        lock: rowLock(manager),
      });
      if (!cursor) throw new Error('webhook_fanout_cursor has no row: run the migrations');
      const startStreamSeq = String(cursor.lastStreamSeq);
      await manager.insert(WebhookSubscription, {
        id,
        url: input.url,
        description: input.description ?? null,
        events: [...new Set(input.events)],
        active,
        secretSealed: this.keyring.sealValue('webhook', secret, webhookSecretAad(id)),
        startStreamSeq,
        createdBy: principal.type === 'user' ? principal.id : null,
      });
      await this.record(manager, 'webhook.create', id, 201, context, {
        host,
        events: input.events,
        active,
      });
      return { subscription: await this.mustExist(manager, id), secret };
    });
  }

  list(limit = WEBHOOK_PAGE_DEFAULT, cursor?: string): Promise<KeysetPage<WebhookSubscription>> {
    const take = Math.min(limit, WEBHOOK_PAGE_MAX);
    return this.transactions.read((manager) =>
      keysetPage(manager, WebhookSubscription, 'id', WEBHOOK_CURSOR, { limit: take, cursor }),
    );
  }

  get(id: string): Promise<WebhookSubscription> {
    return this.transactions.read((manager) => this.mustExist(manager, id));
  }

  update(
    id: string,
    change: WebhookUpdateDto,
    context?: AuditRequestContext,
  ): Promise<WebhookSubscription> {
    const host = change.url === undefined ? undefined : this.checkedHost(change.url);
    return this.transactions.run(async (manager) => {
      const before = await this.mustExist(manager, id);
      const fields: Partial<WebhookSubscription> = {};
      if (change.url !== undefined) fields.url = change.url;
      if (change.events !== undefined) fields.events = [...new Set(change.events)];
      if (change.description !== undefined) fields.description = change.description;
      if (change.active !== undefined) fields.active = change.active;
      if (Object.keys(fields).length > 0) await manager.update(WebhookSubscription, { id }, fields);
      await this.record(manager, 'webhook.update', id, 200, context, {
        ...(host ? { host } : {}),
        ...(fields.events ? { events: fields.events } : {}),
        ...(fields.active === undefined
          ? {}
          : { active: { from: before.active, to: fields.active } }),
        ...(fields.description === undefined ? {} : { description: 'changed' }),
      });
      return this.mustExist(manager, id);
    });
  }

  /** Removes the subscription with its deliveries, pending ones included. */
  remove(id: string, context?: AuditRequestContext): Promise<void> {
    return this.transactions.run(async (manager) => {
      const subscription = await this.mustExist(manager, id);
      const { affected } = await manager.delete(WebhookDelivery, { subscriptionId: id });
      await manager.delete(WebhookSubscription, { id });
      await this.record(manager, 'webhook.delete', id, 204, context, {
        host: hostOf(subscription.url),
        deliveriesDeleted: affected ?? 0,
      });
    });
  }

  /**
   * A new signing secret, in force for every delivery from now on (the old one stops at once:
   * give the receiver the new one first, or accept a few failed deliveries and redeliver them).
   */
  rotateSecret(id: string, context?: AuditRequestContext): Promise<SubscriptionWithSecret> {
    return this.transactions.run(async (manager) => {
      await this.mustExist(manager, id);
      const secret = generateWebhookSecret();
      await manager.update(
        WebhookSubscription,
        { id },
        { secretSealed: this.keyring.sealValue('webhook', secret, webhookSecretAad(id)) },
      );
      await this.record(manager, 'webhook.secret.rotate', id, 200, context, {});
      return { subscription: await this.mustExist(manager, id), secret };
    });
  }

  /** Scheme, allowlist and literal addresses, as a 400 naming the field; the host, for the audit. */
  private checkedHost(url: string): string {
    try {
      return this.guard.checkUrl(url).host;
    } catch (error) {
      if (error instanceof OutboundRefusedError) {
        throw new RequestValidationError([{ field: 'url', errors: [error.message] }]);
      }
      throw error;
    }
  }

  private async mustExist(manager: EntityManager, id: string): Promise<WebhookSubscription> {
    const subscription = await manager.findOneBy(WebhookSubscription, { id });
    if (!subscription) throw new WebhookNotFoundError();
    return subscription;
  }

  private record(
    manager: EntityManager,
    action: string,
    id: string,
    httpStatus: number,
    context: AuditRequestContext | undefined,
    details: Record<string, unknown>,
  ): Promise<void> {
    return this.audit.record(
      {
        action,
        outcome: 'success',
        httpStatus,
        resourceType: 'webhook',
        resourceId: id,
        details,
        context,
      },
      manager,
    );
  }
}

function hostOf(url: string): string | null {
  try {
    return new URL(url).host;
  } catch {
    return null;
  }
}
