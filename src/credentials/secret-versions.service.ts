import { Inject, Injectable } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { EntityManager, In } from 'typeorm';
import { AuditRequestContext } from '../audit/audit-context';
import { AuditWriter } from '../audit/audit-writer';
import type { Principal } from '../common/auth/principal';
import { credentialsConfig } from '../config/credentials.config';
import { TransactionRunner } from '../database/transaction-runner';
import { CredentialAccess } from './credential-access';
import { InvalidIfMatchError, VersionMismatchError } from './credential.errors';
import { Credential } from './entities/credential.entity';
import { CredentialVersion } from './entities/credential-version.entity';
import { checkedSecret, secretInfoOf } from './secret-input';
import { VersionCrypto } from './version-crypto';
import { effectiveState, isPrunable } from './version-states';

const EXPIRY_FROM_SECRET: ReadonlySet<string> = new Set(['certificate', 'jwt']);

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
    private readonly crypto: VersionCrypto,
    @Inject(credentialsConfig.KEY) private readonly config: ConfigType<typeof credentialsConfig>,
  ) {}

  /**
   * Stores a new current version. The old current one stays revealable as `previous` for the
   * configured grace period; an older previous one is revoked. With `expectedVersion` (If-Match)
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
      const now = new Date();
      const version = credential.lastVersion + 1;
      await manager.update(
        CredentialVersion,
        { credentialId: id, state: 'previous' },
        { state: 'revoked', revokedAt: now },
      );
      await manager.update(
        CredentialVersion,
        { credentialId: id, state: 'current' },
        {
          state: 'previous',
          graceUntil: new Date(now.getTime() + this.config.previousGraceSeconds * 1000),
        },
      );
      const sealed = await this.crypto.seal(manager, id, version, credential.type, secret.value);
      await manager.insert(CredentialVersion, {
        credentialId: id,
        version,
        state: 'current',
        ...sealed,
        createdBy: principal.id,
      });
      await manager.update(
        Credential,
        { id },
        {
          currentVersion: version,
          lastVersion: version,
          secretInfo: secretInfoOf(secret),
          // Certificates and JWTs carry their own expiry: it follows the new value.
          ...(EXPIRY_FROM_SECRET.has(credential.type)
            ? { expiresAt: secret.expiresAt ?? null }
            : {}),
          rowVersion: credential.rowVersion + 1,
        },
      );
      const pruned = await this.prune(manager, id, now);
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
            previousVersion: credential.currentVersion,
            pruned,
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
    return this.transactions.read(async (manager) => {
      await this.access.byId(manager, principal, id, 'read');
      const versions = await manager.find(CredentialVersion, {
        where: { credentialId: id },
        order: { version: 'DESC' },
      });
      const now = new Date();
      return versions.map((v) => ({ ...v, state: effectiveState(v, now) }));
    });
  }

  /** Deletes the oldest revoked or destroyed versions beyond the configured number to keep. */
  private async prune(manager: EntityManager, credentialId: string, now: Date): Promise<number[]> {
    const versions = await manager.find(CredentialVersion, {
      select: { version: true, state: true, graceUntil: true },
      where: { credentialId },
      order: { version: 'ASC' },
    });
    const excess = versions.length - this.config.maxVersions;
    if (excess <= 0) return [];
    const doomed = versions
      .filter((v) => isPrunable(v, now))
      .slice(0, excess)
      .map((v) => v.version);
    if (doomed.length > 0) {
      await manager.delete(CredentialVersion, { credentialId, version: In(doomed) });
    }
    return doomed;
  }
}
