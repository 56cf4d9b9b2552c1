import { Inject, Injectable } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { In } from 'typeorm';
import { outboundConfig } from '../../config/outbound.config';
import { webhooksConfig } from '../../config/webhooks.config';
import {
  databaseNow,
  dialectOf,
  forUpdateSkipLocked,
  timestampParam,
} from '../../database/dialect';
import { LeaseService } from '../../database/lease.service';
import { TransactionRunner } from '../../database/transaction-runner';
import { WebhookDelivery } from '../entities/webhook-delivery.entity';
import { WebhookSubscription } from '../entities/webhook-subscription.entity';
import { deliveryBackoffMs } from './delivery-backoff';

/** Longer than any one send can take, so a live claim is never taken over. */
const CLAIM_MARGIN_MS = 60_000;

/** A claimed delivery with what sending it needs. */
export interface ClaimedDelivery {
  delivery: WebhookDelivery;
  url: string;
  secretSealed: string;
}

export type AttemptResult =
  | { ok: true; statusCode: number }
  | { ok: false; statusCode: number | null; error: string; permanent: boolean }
  /** Not sent: this instance cannot open the signing secret (sealed, or without its key). */
  | { ok: false; unsent: true; error: string };

/**
 * The deliveries' rows: claimed by one instance at a time (SKIP LOCKED, with an expiry so a
 * crashed instance's claims are taken over) in short transactions, never held while sending; the
 * result is written back with a compare-and-set on the claim, so an instance whose claim expired
 * and was taken over writes nothing.
 */
@Injectable()
export class DeliveryClaims {
  private readonly claimTtlMs: number;

  constructor(
    private readonly transactions: TransactionRunner,
    private readonly leases: LeaseService,
    @Inject(webhooksConfig.KEY) private readonly config: ConfigType<typeof webhooksConfig>,
    @Inject(outboundConfig.KEY) outbound: ConfigType<typeof outboundConfig>,
  ) {
    this.claimTtlMs = outbound.timeoutMs + CLAIM_MARGIN_MS;
  }

  /** This instance's claimant name (the lease holder's, unique per process). */
  get instance(): string {
    return this.leases.holder;
  }

  /** Up to `limit` due deliveries of active subscriptions, claimed for this instance. */
  claim(limit: number): Promise<ClaimedDelivery[]> {
    return this.transactions.run(async (manager) => {
      const dialect = dialectOf(manager);
      const now = await databaseNow(manager);
      const at = timestampParam(dialect, now);
      // The subscription is read in a subquery, which takes no lock: claims never wait for an
      // admin editing a subscription, nor block one.
      const due = await manager.query<{ id: string }[]>(
        "SELECT id FROM webhook_deliveries WHERE status IN ('pending', 'failed') " +
          'AND next_attempt_at <= ? AND (claim_expires_at IS NULL OR claim_expires_at < ?) ' +
          'AND subscription_id IN (SELECT id FROM webhook_subscriptions WHERE active = 1) ' +
          `ORDER BY next_attempt_at LIMIT ${Math.max(1, Math.floor(limit))}` +
          forUpdateSkipLocked(dialect),
        [at, at],
      );
      if (due.length === 0) return [];
      const ids = due.map((row) => row.id);
      await manager.update(
        WebhookDelivery,
        { id: In(ids) },
        {
          claimedBy: this.instance,
          claimExpiresAt: new Date(now.getTime() + this.claimTtlMs),
          updatedAt: now,
        },
      );
      const deliveries = await manager.findBy(WebhookDelivery, { id: In(ids) });
      const subscriptions = await manager.find(WebhookSubscription, {
        select: { id: true, url: true, secretSealed: true },
        where: { id: In([...new Set(deliveries.map((d) => d.subscriptionId))]) },
      });
      const byId = new Map(subscriptions.map((s) => [s.id, s]));
      return deliveries.flatMap((delivery) => {
        const subscription = byId.get(delivery.subscriptionId);
        return subscription
          ? [{ delivery, url: subscription.url, secretSealed: subscription.secretSealed }]
          : [];
      });
    });
  }

  /**
   * Writes how an attempt went: succeeded, failed with the next attempt after a backoff, or dead
   * once the attempts are spent or retrying cannot help. False when the claim was lost.
   */
  record(delivery: WebhookDelivery, result: AttemptResult): Promise<boolean> {
    return this.transactions.run(async (manager) => {
      const now = await databaseNow(manager);
      const attempts = delivery.attempts + 1;
      const common = {
        attempts,
        claimedBy: null,
        claimExpiresAt: null,
        lastStatusCode: 'statusCode' in result ? result.statusCode : null,
        updatedAt: now,
      };
      let change: Partial<WebhookDelivery>;
      if (result.ok) {
        change = { ...common, status: 'succeeded', lastError: null, deliveredAt: now };
      } else if ('unsent' in result) {
        // No attempt was made: the claim is given back, for an instance that holds the key.
        change = {
          claimedBy: null,
          claimExpiresAt: null,
          lastError: result.error.slice(0, 500),
          nextAttemptAt: new Date(now.getTime() + this.config.retryBackoffMs),
          updatedAt: now,
        };
      } else if (result.permanent || attempts >= this.config.maxAttempts) {
        change = { ...common, status: 'dead', lastError: result.error.slice(0, 500) };
      } else {
        const wait = deliveryBackoffMs(
          attempts,
          this.config.retryBackoffMs,
          this.config.retryBackoffMaxMs,
        );
        change = {
          ...common,
          status: 'failed',
          lastError: result.error.slice(0, 500),
          nextAttemptAt: new Date(now.getTime() + wait),
        };
      }
      const written = await manager.update(
        WebhookDelivery,
        { id: delivery.id, claimedBy: this.instance },
        change,
      );
      return (written.affected ?? 0) > 0;
    });
  }
}
