import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { keysetPage } from '../../database/keyset-page';
import { AuditRequestContext } from '../../audit/audit-context';
import { AuditWriter } from '../../audit/audit-writer';
import { DomainError } from '../../common/errors/domain-error';
import { TransactionRunner } from '../../database/transaction-runner';
import { ConflictError } from '../auth.errors';
import { AccessGrant } from '../grants/access-grant.entity';
import { generateApiKey } from './api-key-format';
import {
  SERVICE_ACCOUNT_CURSOR,
  SERVICE_ACCOUNT_PAGE_DEFAULT,
  SERVICE_ACCOUNT_PAGE_MAX,
} from './dto/service-account.dto';
import { ApiKey } from './api-key.entity';
import { ServiceAccount, ServiceAccountStatus } from './service-account.entity';
import { clock } from '../../common/clock';

export class ServiceAccountNotFoundError extends DomainError {
  readonly kind = 'not_found';

  constructor(what = 'Service account') {
    super(`${what} not found`);
  }
}

/** Service accounts and their API keys; every change is audited in its own transaction. */
@Injectable()
export class ServiceAccountsService {
  constructor(
    private readonly transactions: TransactionRunner,
    private readonly audit: AuditWriter,
  ) {}

  create(
    input: { name: string; description?: string },
    context?: AuditRequestContext,
  ): Promise<ServiceAccount> {
    return this.transactions.run(async (manager) => {
      if (await manager.existsBy(ServiceAccount, { name: input.name })) {
        throw new ConflictError('A service account with this name exists');
      }
      const id = randomUUID();
      await manager.insert(ServiceAccount, {
        id,
        name: input.name,
        description: input.description ?? null,
        status: 'active',
      });
      await this.record(manager, 'service_account.create', id, 201, context, { name: input.name });
      return manager.findOneByOrFail(ServiceAccount, { id });
    });
  }

  async list(
    limit = SERVICE_ACCOUNT_PAGE_DEFAULT,
    cursor?: string,
  ): Promise<{ items: ServiceAccount[]; nextCursor: string | null }> {
    const take = Math.min(limit, SERVICE_ACCOUNT_PAGE_MAX);
    return this.transactions.read((manager) =>
      keysetPage(manager, ServiceAccount, 'name', SERVICE_ACCOUNT_CURSOR, { limit: take, cursor }),
    );
  }

  async get(id: string): Promise<ServiceAccount> {
    const account = await this.transactions.run((manager) =>
      manager.findOneBy(ServiceAccount, { id }),
    );
    if (!account) throw new ServiceAccountNotFoundError();
    return account;
  }

  update(
    id: string,
    change: { description?: string; status?: ServiceAccountStatus },
    context?: AuditRequestContext,
  ): Promise<ServiceAccount> {
    return this.transactions.run(async (manager) => {
      const account = await this.mustExist(manager, id);
      await manager.update(ServiceAccount, { id }, change);
      await this.record(manager, 'service_account.update', id, 200, context, {
        from: { status: account.status },
        to: change,
      });
      return manager.findOneByOrFail(ServiceAccount, { id });
    });
  }

  /** Removes the account with its keys and grants. */
  remove(id: string, context?: AuditRequestContext): Promise<void> {
    return this.transactions.run(async (manager) => {
      const account = await this.mustExist(manager, id);
      await manager.delete(ApiKey, { serviceAccountId: id });
      await manager.delete(AccessGrant, { principalType: 'service_account', principalId: id });
      await manager.delete(ServiceAccount, { id });
      await this.record(manager, 'service_account.delete', id, 204, context, {
        name: account.name,
      });
    });
  }

  /** A new key; the only time its value is returned. */
  createKey(
    serviceAccountId: string,
    input: { expiresAt?: string; label?: string },
    context?: AuditRequestContext,
  ): Promise<{ key: ApiKey; apiKey: string }> {
    const expiresAt = input.expiresAt ? new Date(input.expiresAt) : null;
    if (expiresAt && expiresAt.getTime() <= clock.now()) throw new InvalidExpiryError();
    return this.transactions.run(async (manager) => {
      await this.mustExist(manager, serviceAccountId);
      const generated = generateApiKey();
      await manager.insert(ApiKey, {
        id: generated.id,
        serviceAccountId,
        secretHash: generated.secretHash,
        label: input.label ?? null,
        expiresAt,
        revokedAt: null,
        lastUsedAt: null,
      });
      await this.record(manager, 'api_key.create', serviceAccountId, 201, context, {
        keyId: generated.id,
        expiresAt: expiresAt?.toISOString() ?? null,
      });
      return {
        key: await manager.findOneByOrFail(ApiKey, { id: generated.id }),
        apiKey: generated.apiKey,
      };
    });
  }

  listKeys(serviceAccountId: string): Promise<ApiKey[]> {
    return this.transactions.run(async (manager) => {
      await this.mustExist(manager, serviceAccountId);
      return manager.find(ApiKey, { where: { serviceAccountId }, order: { createdAt: 'ASC' } });
    });
  }

  revokeKey(serviceAccountId: string, keyId: string, context?: AuditRequestContext): Promise<void> {
    return this.transactions.run(async (manager) => {
      const key = await manager.findOneBy(ApiKey, { id: keyId, serviceAccountId });
      if (!key) throw new ServiceAccountNotFoundError('API key');
      if (!key.revokedAt) await manager.update(ApiKey, { id: keyId }, { revokedAt: clock.date() });
      await this.record(manager, 'api_key.revoke', serviceAccountId, 204, context, { keyId });
    });
  }

  private async mustExist(manager: EntityManager, id: string): Promise<ServiceAccount> {
    const account = await manager.findOneBy(ServiceAccount, { id });
    if (!account) throw new ServiceAccountNotFoundError();
    return account;
  }

  private record(
    manager: EntityManager,
    action: string,
    id: string,
    httpStatus: number,
    context: AuditRequestContext | undefined,
    details: Record<string, unknown>,
  ): Promise<void> {
    return this.audit.record(
      {
        action,
        outcome: 'success',
        httpStatus,
        resourceType: 'service_account',
        resourceId: id,
        details,
        context,
      },
      manager,
    );
  }
}

export class InvalidExpiryError extends DomainError {
  readonly kind = 'invalid';

  constructor() {
    super('expiresAt must be in the future');
  }
}
