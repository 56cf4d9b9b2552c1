import { Inject, Injectable } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { EntityManager } from 'typeorm';
import { auditConfig } from '../../config/audit.config';
import { OutboxMessage } from '../entities/outbox-message.entity';

export type OutboxTopic = 'audit.event' | 'audit.checkpoint';

/** Queues a message for every configured sink, inside the caller's transaction. */
@Injectable()
export class AuditOutbox {
  constructor(@Inject(auditConfig.KEY) private readonly config: ConfigType<typeof auditConfig>) {}

  get sinks(): readonly string[] {
    return this.config.sinks;
  }

  async enqueue(manager: EntityManager, topic: OutboxTopic, payload: string): Promise<void> {
    if (this.config.sinks.length === 0) return;
    await manager.insert(
      OutboxMessage,
      this.config.sinks.map((sink) => ({ sink, topic, payload })),
    );
  }
}
