import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { AuditRequestContext } from '../audit/audit-context';
import { AuditWriter } from '../audit/audit-writer';
import { AccessPolicy } from '../auth/grants/access-policy';
import type { Principal } from '../common/auth/principal';
import { isUniqueViolation } from '../database/dialect';
import { TransactionRunner } from '../database/transaction-runner';
import { CredentialAccess } from './credential-access';
import { CredentialChangeHooks } from './credential-change-hooks';
import { insertTags, replaceTags } from './credential-tags';
import { CapabilityRequiredError, CredentialPathTakenError } from './credential.errors';
import type { CredentialCreateDto, CredentialUpdateDto } from './dto/credential-write.dto';
import { Credential } from './entities/credential.entity';
import { checkedSecret, secretInfoOf } from './secret-input';
import { VersionStore } from './version-store';

type Fields = Omit<CredentialUpdateDto, 'path' | 'name' | 'tags'>;
const NULLABLE_FIELDS = [
  'description',
  'username',
  'url',
  'host',
  'port',
  'owner',
  'metadata',
] as const;

/** Creating credentials and changing their metadata; every change audited in its transaction. */
@Injectable()
export class CredentialsService {
  constructor(
    private readonly transactions: TransactionRunner,
    private readonly audit: AuditWriter,
    private readonly policy: AccessPolicy,
    private readonly access: CredentialAccess,
    private readonly versions: VersionStore,
    private readonly changeHooks: CredentialChangeHooks,
  ) {}

  /** Stores the metadata and version 1 of the secret; needs `write` on the path. */
  async create(
    input: CredentialCreateDto,
    principal: Principal,
    context?: AuditRequestContext,
  ): Promise<Credential> {
    const secret = checkedSecret(input.type, input.secret);
    return this.transactions.run(async (manager) => {
      await this.requireOnPath(manager, principal, input.path);
      if (await manager.existsBy(Credential, { path: input.path })) {
        throw new CredentialPathTakenError();
      }
      const id = randomUUID();
      const tags = await insertTags(manager, id, input.tags ?? []);
      await pathTakenOnDuplicate(() =>
        manager.insert(Credential, {
          id,
          path: input.path,
          name: input.name,
          type: input.type,
          ...nullableFields(input),
          expiresAt: expiryOf(input.expiresAt, secret.expiresAt),
          secretInfo: secretInfoOf(secret),
          tags,
          status: 'active',
          currentVersion: 1,
          lastVersion: 1,
          createdBy: principal.id,
        }),
      );
      await this.versions.addFirst(manager, { id, type: input.type }, secret, principal.id);
      const created = await manager.findOneByOrFail(Credential, { id });
      const rowVersion = created.rowVersion;
      await this.changeHooks.afterCreate(manager, created);
      await this.audit.record(
        {
          action: 'credential.create',
          outcome: 'success',
          httpStatus: 201,
          resourceType: 'credential',
          resourceId: id,
          details: { path: input.path, type: input.type, version: 1 },
          context,
        },
        manager,
      );
      // A hook that changed the row (a rotation scheduled) changed updated_at too: read it back.
      return created.rowVersion === rowVersion
        ? created
        : manager.findOneByOrFail(Credential, { id });
    });
  }

  async get(id: string, principal: Principal): Promise<Credential> {
    return this.transactions.read((manager) => this.access.byId(manager, principal, id, 'read'));
  }

  /** The same as get(), by path; 404 where the caller may not read it. */
  async getByPath(path: string, principal: Principal): Promise<Credential> {
    return this.transactions.read(async (manager) =>
      this.access.authorize(
        manager,
        principal,
        await manager.findOne(Credential, { where: { path } }),
        'read',
      ),
    );
  }

  /**
   * The id of the credential at `path`, deleted ones included, before any access check: for a
   * caller that then either changes it (a route that checks access by id) or creates one there.
   */
  async idAtPath(path: string): Promise<string | null> {
    return this.transactions.read(async (manager) => {
      const found = await manager.findOne(Credential, { where: { path }, select: { id: true } });
      return found?.id ?? null;
    });
  }

  /**
   * Changes metadata; moving to another path needs `write` on both paths and no capability on the
   * new path that the caller lacks on the old one (or a move would be a way to reveal or delete).
   */
  async update(
    id: string,
    input: CredentialUpdateDto,
    principal: Principal,
    context?: AuditRequestContext,
  ): Promise<Credential> {
    return this.transactions.run(async (manager) => {
      const credential = await this.access.byId(manager, principal, id, 'write', { lock: true });
      const changes: Partial<Credential> = { ...nullableFields(input) };
      if (input.name !== undefined) changes.name = input.name;
      if (input.expiresAt !== undefined) changes.expiresAt = expiryOf(input.expiresAt);
      if (input.path !== undefined && input.path !== credential.path) {
        await this.requireMove(manager, principal, credential.path, input.path);
        if (await manager.existsBy(Credential, { path: input.path })) {
          throw new CredentialPathTakenError();
        }
        changes.path = input.path;
      }
      if (input.tags !== undefined) changes.tags = await replaceTags(manager, id, input.tags);
      const changed = Object.keys(changes);
      if (changed.length > 0) {
        await pathTakenOnDuplicate(() =>
          manager.update(Credential, { id }, { ...changes, rowVersion: credential.rowVersion + 1 }),
        );
      }
      if (changes.path !== undefined) {
        const moved = await manager.findOneByOrFail(Credential, { id });
        await this.changeHooks.afterMove(manager, moved, credential.path);
      }
      await this.audit.record(
        {
          action: 'credential.update',
          outcome: 'success',
          httpStatus: 200,
          resourceType: 'credential',
          resourceId: id,
          details: {
            path: changes.path ?? credential.path,
            fromPath: changes.path ? credential.path : undefined,
            changed,
          },
          context,
        },
        manager,
      );
      return manager.findOneByOrFail(Credential, { id });
    });
  }

  /**
   * A move may not widen what the caller can do with the credential: write (`byId` checked it on
   * the old path) is needed on the new path, and every capability there must be one the caller
   * already has on the old path, so `write` without `reveal` cannot become a reveal elsewhere.
   */
  private async requireMove(
    manager: EntityManager,
    principal: Principal,
    from: string,
    to: string,
  ): Promise<void> {
    const before = await this.policy.capabilitiesFor(principal, from, manager);
    const after = await this.policy.capabilitiesFor(principal, to, manager);
    if (!after.has('write')) throw new CapabilityRequiredError('write');
    const gained = [...after].find((capability) => !before.has(capability));
    if (gained) throw new CapabilityRequiredError(gained);
  }

  /** Creating at a path needs `write` there; no credential there yet to hide. */
  private async requireOnPath(
    manager: EntityManager,
    principal: Principal,
    path: string,
  ): Promise<void> {
    if (!(await this.policy.can(principal, 'write', path, manager))) {
      throw new CapabilityRequiredError('write');
    }
  }
}

function nullableFields(input: Fields): Partial<Credential> {
  const result: Partial<Record<(typeof NULLABLE_FIELDS)[number], unknown>> = {};
  for (const field of NULLABLE_FIELDS) {
    if (input[field] !== undefined) result[field] = input[field];
  }
  return result as Partial<Credential>;
}

/** The given expiry wins (null clears it); otherwise the one read from the secret, if any. */
function expiryOf(given: string | null | undefined, fromSecret?: Date): Date | null {
  if (given === null) return null;
  if (given !== undefined) return new Date(given);
  return fromSecret ?? null;
}

/** A path taken by a concurrent request between our check and our write is a 409 too. */
async function pathTakenOnDuplicate<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (isUniqueViolation(error)) throw new CredentialPathTakenError();
    throw error;
  }
}
