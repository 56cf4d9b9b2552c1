import { Injectable, Logger } from '@nestjs/common';
import { DirectSql } from '../../database/direct-sql';
import { toDate } from '../../database/dialect';
import { TransactionRunner } from '../../database/transaction-runner';
import { InvalidTokenError } from '../auth.errors';
import type { Principal } from '../../common/auth/principal';
import { parseApiKey, secretMatches } from './api-key-format';
import { ApiKey } from './api-key.entity';
import type { ServiceAccount } from './service-account.entity';
import { clock } from '../../common/clock';

/** How stale last_used_at may get: at most one write per key per minute, not one per request. */
const LAST_USED_RESOLUTION_MS = 60_000;

interface KeyRow {
  serviceAccountId: string;
  secretHash: string;
  expiresAt: Date | string | null;
  revokedAt: Date | string | null;
  lastUsedAt: Date | string | null;
  accountName: string;
  accountStatus: ServiceAccount['status'];
}

/** The key and its account in one statement, in plain SQL: this runs on every service request. */
const KEY_SQL =
  'SELECT k.service_account_id AS serviceAccountId, k.secret_hash AS secretHash, ' +
  'k.expires_at AS expiresAt, k.revoked_at AS revokedAt, k.last_used_at AS lastUsedAt, ' +
  'a.name AS accountName, a.status AS accountStatus ' +
  'FROM api_keys k INNER JOIN service_accounts a ON a.id = k.service_account_id WHERE k.id = ?';

@Injectable()
export class ApiKeyAuthenticator {
  private readonly logger = new Logger(ApiKeyAuthenticator.name);

  constructor(
    private readonly sql: DirectSql,
    private readonly transactions: TransactionRunner,
  ) {}

  /**
   * The service account behind a valid, unexpired, unrevoked key of an active account. Read on
   * every request, never cached, so a revoked key or a disabled account stops working at once.
   */
  async authenticate(value: string): Promise<Principal> {
    const parsed = parseApiKey(value);
    if (!parsed) throw new InvalidTokenError('Invalid API key');
    const [key] = await this.sql.select<KeyRow>(KEY_SQL, [parsed.id]);
    const valid =
      key !== undefined &&
      secretMatches(parsed.secret, key.secretHash) &&
      key.revokedAt === null &&
      (key.expiresAt === null || toDate(key.expiresAt).getTime() > clock.now()) &&
      key.accountStatus === 'active';
    if (!valid) throw new InvalidTokenError('Invalid API key');
    this.touch(parsed.id, key.lastUsedAt === null ? null : toDate(key.lastUsedAt));
    return { type: 'service', id: key.serviceAccountId, name: key.accountName };
  }

  /**
   * The service account behind a token derived from key `keyId` (AppRole login): valid only while
   * that key is unexpired and unrevoked and the account active, checked on every request like
   * the key itself, so revoking the key or suspending the account ends the token at once.
   */
  async authenticateDerived(keyId: string, serviceAccountId: string): Promise<Principal> {
    const [key] = await this.sql.select<KeyRow>(KEY_SQL, [keyId]);
    const valid =
      key !== undefined &&
      key.serviceAccountId === serviceAccountId &&
      key.revokedAt === null &&
      (key.expiresAt === null || toDate(key.expiresAt).getTime() > clock.now()) &&
      key.accountStatus === 'active';
    if (!valid) throw new InvalidTokenError();
    this.touch(keyId, key.lastUsedAt === null ? null : toDate(key.lastUsedAt));
    return { type: 'service', id: key.serviceAccountId, name: key.accountName };
  }

  /** When key `keyId` expires (null: never), for token lookups. */
  async expiryOf(keyId: string): Promise<Date | null> {
    const [key] = await this.sql.select<KeyRow>(KEY_SQL, [keyId]);
    return key?.expiresAt ? toDate(key.expiresAt) : null;
  }

  private touch(id: string, lastUsedAt: Date | null): void {
    const now = clock.now();
    if (lastUsedAt && now - lastUsedAt.getTime() < LAST_USED_RESOLUTION_MS) return;
    // Not awaited: bookkeeping must not slow or fail the request.
    this.transactions
      .run((manager) => manager.update(ApiKey, { id }, { lastUsedAt: new Date(now) }))
      .catch((error: unknown) =>
        this.logger.warn(`Could not record API key use: ${(error as Error).message}`),
      );
  }
}
