import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { TransactionRunner } from '../../database/transaction-runner';
import { InvalidTokenError } from '../auth.errors';
import type { Principal } from '../principal';
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
    const key = await this.dataSource
      .getRepository(ApiKey)
      .createQueryBuilder('k')
      .addSelect('k.secretHash')
      .where('k.id = :id', { id: parsed.id })
      .getOne();
    const valid =
      key !== null &&
      secretMatches(parsed.secret, key.secretHash) &&
      key.revokedAt === null &&
      (key.expiresAt === null || key.expiresAt.getTime() > Date.now());
    if (!valid) throw new InvalidTokenError('Invalid API key');
    const account = await this.dataSource
      .getRepository(ServiceAccount)
      .findOneBy({ id: key.serviceAccountId });
    if (!account || account.status !== 'active') throw new InvalidTokenError('Invalid API key');
    this.touch(key);
    return { type: 'service', id: account.id, name: account.name };
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
