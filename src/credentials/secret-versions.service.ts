import { Inject, Injectable } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { AuditRequestContext } from '../audit/audit-context';
import { AuditWriter } from '../audit/audit-writer';
import type { Principal } from '../common/auth/principal';
import { credentialsConfig } from '../config/credentials.config';
import { databaseNow } from '../database/dialect';
import { TransactionRunner } from '../database/transaction-runner';
import { CredentialAccess } from './credential-access';
import { InvalidIfMatchError, VersionMismatchError } from './credential.errors';
import { Credential } from './entities/credential.entity';
import { CredentialVersion } from './entities/credential-version.entity';
import { checkedSecret } from './secret-input';
import { SecretWriteHooks } from './secret-write-hooks';
import { effectiveState } from './version-states';
import { VersionStore } from './version-store';

/**
 * `3`, `"3"` or `W/"3"` (proxies may weaken ETags); `*` (any current version) checks nothing.
 */
export function parseIfMatch(header: string | undefined): number | undefined {
  if (header === undefined || header.trim() === '*') return undefined;
  const match = /^\s*(?:(\d{1,10})|(?:W\/)?"(\d{1,10})")\s*$/.exec(header);
  if (!match) throw new InvalidIfMatchError();
  return Number(match[1] ?? match[2]);
}

/** New secret values by hand, the version history, and its pruning. */
@Injectable()
export class SecretVersionsService {
  constructor(
    private readonly transactions: TransactionRunner,
    private readonly audit: AuditWriter,
    private readonly access: CredentialAccess,
    private readonly versions: VersionStore,
    private readonly hooks: SecretWriteHooks,
    @Inject(credentialsConfig.KEY) private readonly config: ConfigType<typeof credentialsConfig>,
  ) {}

  /**
   * Stores a new current version through the version store. The old current one stays
   * revealable as `previous` for the configured grace period (or the one a waiting manual
   * rotation asks for); an older previous one is revoked. With `expectedVersion` (If-Match)
   * the change happens only if the current version is still that one.
   */
  async replaceSecret(
    id: string,
    secretInput: Record<string, unknown>,
    expectedVersion: number | undefined,
    principal: Principal,
    context?: AuditRequestContext,
  ): Promise<Credential> {
    return this.transactions.run(async (manager) => {
      const credential = await this.access.byId(manager, principal, id, 'write', { lock: true });
      if (expectedVersion !== undefined && expectedVersion !== credential.currentVersion) {
        throw new VersionMismatchError(String(expectedVersion), credential.currentVersion);
      }
      const secret = checkedSecret(credential.type, secretInput);
      const plan = await this.hooks.plan(manager, credential, principal, context);
      const previousVersion = credential.currentVersion;
      const version = await this.versions.addPending(manager, credential, secret, principal.id);
      const promotion = await this.versions.promote(
        manager,
        credential,
        version,
        plan.graceSeconds ?? this.config.previousGraceSeconds,
        secret,
      );
      await plan.afterPromote?.(promotion);
      await this.audit.record(
        {
          action: 'credential.secret.update',
          outcome: 'success',
          httpStatus: 200,
          resourceType: 'credential',
          resourceId: id,
          details: {
            path: credential.path,
            version,
            previousVersion,
            graceUntil: promotion.graceUntil?.toISOString() ?? null,
            revoked: promotion.revoked,
            pruned: promotion.pruned,
          },
          context,
        },
        manager,
      );
      return manager.findOneByOrFail(Credential, { id });
    });
  }

  /** Version metadata, newest first: never values, ciphertexts or fingerprints. */
  async list(id: string, principal: Principal): Promise<CredentialVersion[]> {
    return (await this.history(id, principal)).versions;
  }

  /**
   * The credential (`read`) with its versions, newest first, in one read; `includeDeleted` also
   * finds a soft-deleted one, whose metadata stays readable until it is destroyed.
   */
  async history(
    id: string,
    principal: Principal,
    options: { includeDeleted?: boolean } = {},
  ): Promise<{ credential: Credential; versions: CredentialVersion[] }> {
    return this.transactions.read(async (manager) => {
      const credential = await this.access.byId(manager, principal, id, 'read', options);
      const versions = await manager.find(CredentialVersion, {
        where: { credentialId: id },
        order: { version: 'DESC' },
      });
      // Grace ends by the database clock, which wrote it; not by this process's own.
      const now = await databaseNow(manager);
      return {
        credential,
        versions: versions.map((v) => ({ ...v, state: effectiveState(v, now) })),
      };
    });
  }
}
