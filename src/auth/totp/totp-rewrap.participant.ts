import { Injectable, OnModuleInit } from '@nestjs/common';
import { EntityManager, IsNull, Not } from 'typeorm';
import type { Kek } from '../../crypto/envelope';
import { KeyRewrapParticipant, KeyRewrapRegistry } from '../../crypto/key-rewrap.registry';
import { KeyringService } from '../../crypto/keyring.service';
import { rowLock } from '../../database/dialect';
import { User } from '../users/user.entity';

/** Re-seals TOTP secrets under the new master key during a master-key rotation. */
@Injectable()
export class TotpRewrapParticipant implements KeyRewrapParticipant, OnModuleInit {
  readonly name = 'totpSecrets';

  constructor(
    private readonly registry: KeyRewrapRegistry,
    private readonly keyring: KeyringService,
  ) {}

  onModuleInit(): void {
    this.registry.register(this);
  }

  async countByKey(manager: EntityManager): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const secret of await this.sealedSecrets(manager)) {
      const keyId = this.keyring.sealedKeyId(secret.mfaSecret!);
      counts[keyId] = (counts[keyId] ?? 0) + 1;
    }
    return counts;
  }

  async rewrapBatch(manager: EntityManager, target: Kek, limit: number): Promise<number> {
    // Few users have TOTP; reading them all keeps legacy values (no key id prefix) in view too.
    const stale = (await this.sealedSecrets(manager))
      .filter((user) => this.keyring.sealedKeyId(user.mfaSecret!) !== target.id)
      .slice(0, limit);
    for (const { id } of stale) {
      const [user] = await manager.find(User, {
        select: { id: true, mfaSecret: true },
        where: { id },
        lock: rowLock(manager),
      });
      if (!user?.mfaSecret || this.keyring.sealedKeyId(user.mfaSecret) === target.id) continue;
      const secret = this.keyring.openValue('totp', user.mfaSecret, user.id);
      const mfaSecret = this.keyring.sealValue('totp', secret, user.id, target.id);
      await manager.update(User, { id: user.id }, { mfaSecret });
    }
    return stale.length;
  }

  private sealedSecrets(manager: EntityManager): Promise<Pick<User, 'id' | 'mfaSecret'>[]> {
    return manager.find(User, {
      select: { id: true, mfaSecret: true },
      where: { mfaSecret: Not(IsNull()) },
      order: { id: 'ASC' },
    });
  }
}
