import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { Interval } from '@nestjs/schedule';
import { loggableError } from '../../common/errors/loggable-error';
import { webhooksConfig } from '../../config/webhooks.config';
import { KeyringService } from '../../crypto/keyring.service';
import { DeliveryClaims } from './delivery-claims';
import { DeliverySender } from './delivery-sender';
import { FANOUT_BATCH, WebhookFanOut } from './webhook-fan-out';

/** How often the schedule looks whether WEBHOOKS_DISPATCH_INTERVAL_MS has passed. */
export const DISPATCH_TICK_MS = 100;

/**
 * The webhook job, on every instance: fans new events out to deliveries, then keeps up to
 * WEBHOOKS_CONCURRENCY deliveries in flight. Sends run beside the schedule, not inside it, so a
 * slow receiver holds one slot while the others go on; no database transaction is open while a
 * request is out, and nothing here runs on a request's or a rotation's path.
 */
@Injectable()
export class WebhookDispatcher implements OnApplicationShutdown {
  private readonly logger = new Logger(WebhookDispatcher.name);
  private readonly inFlight = new Set<Promise<void>>();
  private running?: Promise<void>;
  private lastRunAt = 0;
  private stopping = false;

  constructor(
    private readonly fanOut: WebhookFanOut,
    private readonly claims: DeliveryClaims,
    private readonly sender: DeliverySender,
    private readonly keyring: KeyringService,
    @Inject(webhooksConfig.KEY) private readonly config: ConfigType<typeof webhooksConfig>,
  ) {}

  @Interval('webhook-dispatcher', DISPATCH_TICK_MS)
  scheduledTick(now = Date.now()): Promise<void> | null {
    // A sealed instance cannot sign: it leaves the deliveries to the instances that can.
    if (this.stopping || !this.config.dispatcherEnabled || this.keyring.isSealed()) return null;
    if (now - this.lastRunAt < this.config.dispatchIntervalMs) return null;
    this.lastRunAt = now;
    return this.tick();
  }

  /** One pass (fan-out, then claims for the free slots); passes never overlap in an instance. */
  tick(): Promise<void> {
    this.running ??= this.pass().finally(() => (this.running = undefined));
    return this.running;
  }

  /** A pass, then every send it started: for tests and the CLI, which want the outcome. */
  async drain(): Promise<void> {
    await this.tick();
    await Promise.all([...this.inFlight]);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.running;
    await Promise.all([...this.inFlight]);
  }

  private async pass(): Promise<void> {
    try {
      while ((await this.fanOut.pass()) === FANOUT_BATCH && !this.stopping) {
        // a full batch: more events may wait
      }
    } catch (error) {
      this.logger.error({ err: loggableError(error) }, 'Webhook fan-out failed');
    }
    const free = this.config.concurrency - this.inFlight.size;
    if (free <= 0 || this.stopping) return;
    let claimed;
    try {
      claimed = await this.claims.claim(free);
    } catch (error) {
      this.logger.error({ err: loggableError(error) }, 'Claiming webhook deliveries failed');
      return;
    }
    for (const item of claimed) {
      const send: Promise<void> = this.sender
        .send(item)
        .then(async (result) => {
          if (!result.ok) {
            this.logger.warn(
              { deliveryId: item.delivery.id, attempt: item.delivery.attempts + 1 },
              `Webhook delivery failed: ${result.error}`,
            );
          }
          await this.claims.record(item.delivery, result);
        })
        .catch((error: unknown) =>
          // The claim expires and another pass tries again.
          this.logger.error(
            { deliveryId: item.delivery.id, err: loggableError(error) },
            'Recording a webhook delivery failed',
          ),
        )
        .finally(() => this.inFlight.delete(send));
      this.inFlight.add(send);
    }
  }
}
