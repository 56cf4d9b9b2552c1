import type { StreamEvent } from '../../events/outbox-reader';
import type { WebhookDelivery } from '../entities/webhook-delivery.entity';

/** What receivers get under `event`: the stream event without anything internal. */
export interface WebhookEventBody {
  /** The stream sequence: ordered, gap-free, the same in every delivery of the event. */
  id: string;
  type: string;
  occurredAt: string;
  resourceType: string;
  resourceId: string;
  path: string | null;
  data: Record<string, unknown>;
}

/** The payload a delivery stores: the event as it will be sent, fixed at fan-out. */
export function eventPayload(event: StreamEvent): string {
  const body: WebhookEventBody = {
    id: event.streamSeq,
    type: event.type,
    occurredAt: event.createdAt.toISOString(),
    resourceType: event.resourceType,
    resourceId: event.resourceId,
    path: event.path,
    data: event.data,
  };
  return JSON.stringify(body);
}

/** The signed body of one delivery: `{deliveryId, subscriptionId, event}`. */
export function deliveryBody(
  delivery: Pick<WebhookDelivery, 'id' | 'subscriptionId' | 'payload'>,
): string {
  return JSON.stringify({
    deliveryId: delivery.id,
    subscriptionId: delivery.subscriptionId,
    event: JSON.parse(delivery.payload) as WebhookEventBody,
  });
}
