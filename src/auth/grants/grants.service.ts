import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { EntityManager, EntityTarget, FindOptionsWhere } from 'typeorm';
import { AuditRequestContext } from '../../audit/audit-context';
import { AuditWriter } from '../../audit/audit-writer';
import { rowLock } from '../../database/dialect';
import { TransactionRunner } from '../../database/transaction-runner';
import { ConflictError } from '../auth.errors';
import type { Principal } from '../../common/auth/principal';
import { ServiceAccount } from '../service-accounts/service-account.entity';
import { User } from '../users/user.entity';
import { AccessGrant, GrantPrincipalType } from './access-grant.entity';
import { CAPABILITIES, Capability } from '../../common/auth/access-vocabulary';
import { orderedCapabilities, parseCapabilities, roleExclusions } from './access-policy';
import {
  GrantNotFoundError,
  GrantPrincipalNotFoundError,
  InvalidCapabilitiesError,
  InvalidPathPatternError,
} from './grant.errors';
import { pathPatternProblem } from './path-pattern';

export const GRANT_LIST_MAX = 500;

export interface GrantCreateInput {
  principalType: GrantPrincipalType;
  principalId: string;
  pathPattern: string;
  capabilities: Capability[];
}

export interface GrantFilter {
  principalType?: GrantPrincipalType;
  principalId?: string;
}

/** Path-scoped capabilities for users and service accounts; each change audited with it. */
@Injectable()
export class GrantsService {
  constructor(
    private readonly transactions: TransactionRunner,
    private readonly audit: AuditWriter,
  ) {}

  /**
   * One grant per principal and pattern: a second one answers 409 (delete and re-create to
   * change capabilities). The principal's row is locked, so it cannot be deleted meanwhile and
   * two concurrent creations for it cannot both pass the duplicate check.
   */
  async create(
    input: GrantCreateInput,
    creator: Principal,
    context?: AuditRequestContext,
  ): Promise<AccessGrant> {
    const problem = pathPatternProblem(input.pathPattern);
    if (problem) throw new InvalidPathPatternError(problem);
    const capabilities = checkedCapabilities(input.capabilities);
    const { principalType, principalId, pathPattern } = input;
    return this.transactions.run(async (manager) => {
      const principal = await this.lockPrincipal(manager, principalType, principalId);
      const forbidden = principal instanceof User ? neverFor(principal, capabilities) : [];
      if (forbidden.length > 0) {
        throw new InvalidCapabilitiesError(
          `the ${(principal as User).role} role never gets ${forbidden.join(', ')}`,
        );
      }
      if (await manager.existsBy(AccessGrant, { principalType, principalId, pathPattern })) {
        throw new ConflictError(
          'This principal already has a grant for this path pattern; delete it to change its capabilities',
        );
      }
      const id = randomUUID();
      await manager.insert(AccessGrant, {
        id,
        principalType,
        principalId,
        pathPattern,
        capabilities: capabilities.join(','),
        createdBy: creator.id,
      });
      await this.audit.record(
        {
          action: 'grant.create',
          outcome: 'success',
          httpStatus: 201,
          resourceType: 'grant',
          resourceId: id,
          details: { principalType, principalId, pathPattern, capabilities },
          context,
        },
        manager,
      );
      return manager.findOneByOrFail(AccessGrant, { id });
    });
  }

  /** At most GRANT_LIST_MAX grants, oldest first. */
  async list(filter: GrantFilter = {}): Promise<AccessGrant[]> {
    const where: FindOptionsWhere<AccessGrant> = {};
    if (filter.principalType) where.principalType = filter.principalType;
    if (filter.principalId) where.principalId = filter.principalId;
    return this.transactions.run((manager) =>
      manager.find(AccessGrant, {
        where,
        order: { createdAt: 'ASC', id: 'ASC' },
        take: GRANT_LIST_MAX,
      }),
    );
  }

  async get(id: string): Promise<AccessGrant> {
    const grant = await this.transactions.run((manager) => manager.findOneBy(AccessGrant, { id }));
    if (!grant) throw new GrantNotFoundError();
    return grant;
  }

  async remove(id: string, context?: AuditRequestContext): Promise<void> {
    await this.transactions.run(async (manager) => {
      const grant = await lockRow(manager, AccessGrant, id);
      if (!grant) throw new GrantNotFoundError();
      await manager.delete(AccessGrant, { id });
      await this.audit.record(
        {
          action: 'grant.delete',
          outcome: 'success',
          httpStatus: 204,
          resourceType: 'grant',
          resourceId: id,
          details: {
            principalType: grant.principalType,
            principalId: grant.principalId,
            pathPattern: grant.pathPattern,
            capabilities: orderedCapabilities(parseCapabilities(grant.capabilities)),
          },
          context,
        },
        manager,
      );
    });
  }

  private async lockPrincipal(
    manager: EntityManager,
    principalType: GrantPrincipalType,
    principalId: string,
  ): Promise<User | ServiceAccount> {
    const found =
      principalType === 'user'
        ? await lockRow(manager, User, principalId)
        : await lockRow(manager, ServiceAccount, principalId);
    if (!found) throw new GrantPrincipalNotFoundError(principalType);
    return found;
  }
}

/** The capabilities the user's role may never have (auditor: reveal); the policy drops them too. */
function neverFor(user: User, capabilities: readonly Capability[]): Capability[] {
  const never = roleExclusions(user.role);
  return capabilities.filter((capability) => never.has(capability));
}

/** Non-empty, known and unique, in the canonical order. The DTO checks this too. */
function checkedCapabilities(capabilities: readonly string[]): Capability[] {
  const known = new Set<string>(CAPABILITIES);
  if (capabilities.length === 0) {
    throw new InvalidCapabilitiesError('capabilities must not be empty');
  }
  const unknown = capabilities.filter((capability) => !known.has(capability));
  if (unknown.length > 0) {
    throw new InvalidCapabilitiesError(`unknown capabilities: ${unknown.join(', ')}`);
  }
  if (new Set(capabilities).size !== capabilities.length) {
    throw new InvalidCapabilitiesError('capabilities must be unique');
  }
  return orderedCapabilities(capabilities.filter((c): c is Capability => known.has(c)));
}

/** The row with this id, locked for the transaction (SQLite serializes transactions instead). */
function lockRow<T extends { id: string }>(
  manager: EntityManager,
  entity: EntityTarget<T>,
  id: string,
): Promise<T | null> {
  return manager.findOne(entity, { where: { id } as FindOptionsWhere<T>, lock: rowLock(manager) });
}
