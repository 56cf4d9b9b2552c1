import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { CryptoModule } from '../crypto/crypto.module';
import { OutboundModule } from '../outbound/outbound.module';
import { DeliveryClaims } from './delivery/delivery-claims';
import { DeliverySender } from './delivery/delivery-sender';
import { WebhookDispatcher } from './delivery/webhook-dispatcher';
import { WebhookFanOut } from './delivery/webhook-fan-out';
import { WebhooksController } from './http/webhooks.controller';
import { WebhookDeliveriesService } from './webhook-deliveries.service';
import { WebhookSecretRewrapParticipant } from './webhook-secret-rewrap.participant';
import { WebhookSubscriptionsService } from './webhook-subscriptions.service';

/**
 * Signed event subscriptions (DESIGN.md §6 `/webhooks`): a listener of the event stream
 * (events module), audited (audit), its secrets sealed (crypto), every call SSRF-guarded
 * (outbound). Nothing imports it.
 */
@Module({
  imports: [AuditModule, CryptoModule, OutboundModule],
  controllers: [WebhooksController],
  providers: [
    WebhookSubscriptionsService,
    WebhookDeliveriesService,
    WebhookSecretRewrapParticipant,
    WebhookFanOut,
    DeliveryClaims,
    DeliverySender,
    WebhookDispatcher,
  ],
  exports: [WebhookDispatcher],
})
export class WebhooksModule {}
