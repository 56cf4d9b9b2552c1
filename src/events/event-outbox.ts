import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { OutboxEvent } from './event-outbox.entity';

/** The domain events Custos raises for webhooks and the event stream. */
export const EVENT_TYPES = [
  'rotation.started',
  'rotation.succeeded',
  'rotation.failed',
  'rotation.due',
  'rotation.adoption_lagging',
  'credential.expiring',
  'credential.version.revoked',
  'incident.opened',
  'incident.transitioned',
  'incident.contained',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export interface DomainEventInput {
  type: EventType;
  resourceType: 'credential' | 'incident';
  resourceId: string;
  /** The credential's path; null for events of other resources. */
  path: string | null;
  /** Facts for consumers: ids, versions, times, error text. Never secret material. */
  data: Record<string, unknown>;
}

/**
 * Appends domain events inside the caller's transaction, so an event exists exactly when the
 * change it reports committed. Consumers (webhooks, the event stream) read it by `seq`.
 */
@Injectable()
export class EventOutbox {
  async publish(manager: EntityManager, event: DomainEventInput): Promise<void> {
    await manager.insert(OutboxEvent, toRow(event));
  }

  /** Several events in one INSERT, in order: for jobs that report a batch of changes. */
  async publishAll(manager: EntityManager, events: DomainEventInput[]): Promise<void> {
    if (events.length > 0) await manager.insert(OutboxEvent, events.map(toRow));
  }
}

function toRow(event: DomainEventInput): Partial<OutboxEvent> {
  return {
    type: event.type,
    resourceType: event.resourceType,
    resourceId: event.resourceId,
    path: event.path,
    payload: JSON.stringify(event.data),
  };
}
