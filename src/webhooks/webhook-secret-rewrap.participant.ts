import { Injectable, OnModuleInit } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import type { Kek } from '../crypto/envelope';
import { KeyRewrapParticipant, KeyRewrapRegistry } from '../crypto/key-rewrap.registry';
import { KeyringService } from '../crypto/keyring.service';
import { rowLock } from '../database/dialect';
import { WebhookSubscription } from './entities/webhook-subscription.entity';
import { webhookSecretAad } from './webhook-secret';

/** Re-seals webhook signing secrets under the new master key during a master-key rotation. */
@Injectable()
export class WebhookSecretRewrapParticipant implements KeyRewrapParticipant, OnModuleInit {
  readonly name = 'webhookSecrets';

  constructor(
    private readonly registry: KeyRewrapRegistry,
    private readonly keyring: KeyringService,
  ) {}

  onModuleInit(): void {
    this.registry.register(this);
  }

  async countByKey(manager: EntityManager): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const { secretSealed } of await this.sealed(manager)) {
      const keyId = this.keyring.sealedKeyId(secretSealed);
      counts[keyId] = (counts[keyId] ?? 0) + 1;
    }
    return counts;
  }

  async rewrapBatch(manager: EntityManager, target: Kek, limit: number): Promise<number> {
    // Subscriptions are few: reading them all is simpler than filtering on the key id prefix.
    const stale = (await this.sealed(manager))
      .filter((s) => this.keyring.sealedKeyId(s.secretSealed) !== target.id)
      .slice(0, limit);
    for (const { id } of stale) {
      const [row] = await manager.find(WebhookSubscription, {
        select: { id: true, secretSealed: true },
        where: { id },
        lock: rowLock(manager),
      });
      if (!row || this.keyring.sealedKeyId(row.secretSealed) === target.id) continue;
      const aad = webhookSecretAad(id);
      const secret = this.keyring.openValue('webhook', row.secretSealed, aad);
      const secretSealed = this.keyring.sealValue('webhook', secret, aad, target.id);
      await manager.update(WebhookSubscription, { id }, { secretSealed });
    }
    return stale.length;
  }

  private sealed(
    manager: EntityManager,
  ): Promise<Pick<WebhookSubscription, 'id' | 'secretSealed'>[]> {
    return manager.find(WebhookSubscription, {
      select: { id: true, secretSealed: true },
      order: { id: 'ASC' },
    });
  }
}
