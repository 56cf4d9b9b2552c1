import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { TransactionRunner } from '../../database/transaction-runner';
import { InvalidTokenError } from '../auth.errors';
import type { Principal } from '../../common/auth/principal';
import { parseApiKey, secretMatches } from './api-key-format';
import { ApiKey } from './api-key.entity';
import { ServiceAccount } from './service-account.entity';

/** How stale last_used_at may get: at most one write per key per minute, not one per request. */
const LAST_USED_RESOLUTION_MS = 60_000;

@Injectable()
export class ApiKeyAuthenticator {
  private readonly logger = new Logger(ApiKeyAuthenticator.name);

  constructor(
    private readonly dataSource: DataSource,
    private readonly transactions: TransactionRunner,
  ) {}

  /** The service account behind a valid, unexpired, unrevoked key of an active account. */
  async authenticate(value: string): Promise<Principal> {
    const parsed = parseApiKey(value);
    if (!parsed) throw new InvalidTokenError('Invalid API key');
    // One round trip for the key and its account: this runs on every service request.
    const { entities, raw } = await this.dataSource
      .getRepository(ApiKey)
      .createQueryBuilder('k')
      .addSelect('k.secretHash')
      .innerJoin(ServiceAccount, 'a', 'a.id = k.service_account_id')
      .addSelect('a.name', 'account_name')
      .addSelect('a.status', 'account_status')
      .where('k.id = :id', { id: parsed.id })
      .getRawAndEntities<{ account_name: string; account_status: ServiceAccount['status'] }>();
    const [key] = entities;
    const account = raw[0];
    const valid =
      key !== undefined &&
      secretMatches(parsed.secret, key.secretHash) &&
      key.revokedAt === null &&
      (key.expiresAt === null || key.expiresAt.getTime() > Date.now()) &&
      account.account_status === 'active';
    if (!valid) throw new InvalidTokenError('Invalid API key');
    this.touch(key);
    return { type: 'service', id: key.serviceAccountId, name: account.account_name };
  }

  private touch(key: ApiKey): void {
    const now = Date.now();
    if (key.lastUsedAt && now - key.lastUsedAt.getTime() < LAST_USED_RESOLUTION_MS) return;
    // Not awaited: bookkeeping must not slow or fail the request.
    this.transactions
      .run((manager) => manager.update(ApiKey, { id: key.id }, { lastUsedAt: new Date(now) }))
      .catch((error: unknown) =>
        this.logger.warn(`Could not record API key use: ${(error as Error).message}`),
      );
  }
}
