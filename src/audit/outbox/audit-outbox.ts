import { Inject, Injectable } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { EntityManager } from 'typeorm';
import { auditConfig } from '../../config/audit.config';

export type OutboxTopic = 'audit.event' | 'audit.checkpoint';

/** Queues a message for every configured sink, inside the caller's transaction. */
@Injectable()
export class AuditOutbox {
  constructor(@Inject(auditConfig.KEY) private readonly config: ConfigType<typeof auditConfig>) {}

  get sinks(): readonly string[] {
    return this.config.sinks;
  }

  /**
   * `payloads` is called only when some sink will receive them: with none configured
   * (AUDIT_SINKS=none) nothing is serialized on the request path.
   */
  async enqueue(
    manager: EntityManager,
    topic: OutboxTopic,
    payloads: () => string[],
  ): Promise<void> {
    const sinks = this.config.sinks;
    if (sinks.length === 0) return;
    const messages = payloads();
    if (messages.length === 0) return;
    // Plain SQL: this runs with every audit write, on the request path.
    const rows = messages.flatMap((payload) => sinks.map((sink) => [sink, topic, payload]));
    await manager.query(
      `INSERT INTO outbox (sink, topic, payload) VALUES ${rows.map(() => '(?, ?, ?)').join(', ')}`,
      rows.flat(),
    );
  }
}
