import { Inject, Injectable, Logger } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { EntityManager } from 'typeorm';
import { AuditRequestContext } from '../audit/audit-context';
import { AuditWriter } from '../audit/audit-writer';
import type { Principal } from '../common/auth/principal';
import { credentialsConfig } from '../config/credentials.config';
import { TransactionRunner } from '../database/transaction-runner';
import { CredentialAccess } from './credential-access';
import { CredentialMetrics } from './credential-metrics';
import {
  RevealReasonRequiredError,
  VersionNotFoundError,
  VersionNotRevealableError,
} from './credential.errors';
import { Credential } from './entities/credential.entity';
import { CredentialVersion, VersionState } from './entities/credential-version.entity';
import { VersionCrypto } from './version-crypto';
import { effectiveState, isRevealable } from './version-states';

/** The credential with the joined version mapped onto it. */
type WithRevealed = Credential & { revealed?: CredentialVersion };

interface Loaded {
  credential: Credential | null;
  version: number;
  row: CredentialVersion | null;
}

export interface RevealedSecret {
  id: string;
  path: string;
  type: Credential['type'];
  version: number;
  state: VersionState;
  secret: Record<string, unknown>;
}

/**
 * The only way to plaintext. The audit event is written in the same transaction as the read,
 * after decryption and before anything is returned: if it cannot be written, the caller gets a
 * 500 and no secret (fail closed, DESIGN.md §4.3).
 */
@Injectable()
export class RevealService {
  private readonly logger = new Logger(RevealService.name);

  constructor(
    private readonly transactions: TransactionRunner,
    private readonly audit: AuditWriter,
    private readonly access: CredentialAccess,
    private readonly crypto: VersionCrypto,
    private readonly metrics: CredentialMetrics,
    @Inject(credentialsConfig.KEY) private readonly config: ConfigType<typeof credentialsConfig>,
  ) {}

  async revealById(
    id: string,
    request: { version?: number; reason?: string },
    principal: Principal,
    context?: AuditRequestContext,
  ): Promise<RevealedSecret> {
    if (principal.type === 'user' && this.config.revealReasonRequired && !request.reason) {
      throw new RevealReasonRequiredError();
    }
    const revealed = await this.transactions.run(async (manager) => {
      const loaded = await this.load(manager, { id }, request.version);
      await this.access.authorize(manager, principal, loaded.credential, 'reveal');
      return this.reveal(manager, loaded, 'id', request.reason, context);
    });
    this.metrics.reveals.inc({ via: 'id', type: revealed.type });
    return revealed;
  }

  /**
   * For services: the current version by path. It takes no reason, so where people must give
   * one they use the reveal route instead: this one is no way around the rule.
   */
  async revealByPath(
    path: string,
    principal: Principal,
    context?: AuditRequestContext,
  ): Promise<RevealedSecret> {
    if (principal.type === 'user' && this.config.revealReasonRequired) {
      throw new RevealReasonRequiredError('POST /credentials/{id}/reveal with a reason');
    }
    const revealed = await this.transactions.run(async (manager) => {
      const loaded = await this.load(manager, { path });
      await this.access.authorize(manager, principal, loaded.credential, 'reveal');
      return this.reveal(manager, loaded, 'path', undefined, context);
    });
    this.metrics.reveals.inc({ via: 'path', type: revealed.type });
    return revealed;
  }

  /**
   * The credential and the version to reveal (the current one unless named), ciphertext
   * included, in one query: this is the hot path of every service. Nothing is decrypted before
   * the caller is authorized.
   */
  private async load(
    manager: EntityManager,
    where: { id: string } | { path: string },
    requested?: number,
  ): Promise<Loaded> {
    const found: WithRevealed | null = await manager
      .getRepository(Credential)
      .createQueryBuilder('c')
      .leftJoinAndMapOne(
        'c.revealed',
        CredentialVersion,
        'v',
        requested === undefined
          ? 'v.credential_id = c.id AND v.version = c.current_version'
          : 'v.credential_id = c.id AND v.version = :version',
        { version: requested },
      )
      .addSelect(['v.ciphertext', 'v.iv', 'v.tag', 'v.wrappedDek'])
      .where('id' in where ? 'c.id = :key' : 'c.path = :key', {
        key: 'id' in where ? where.id : where.path,
      })
      .getOne();
    return {
      credential: found,
      version: requested ?? found?.currentVersion ?? 0,
      row: found?.revealed ?? null,
    };
  }

  private async reveal(
    manager: EntityManager,
    { credential, version, row }: Loaded,
    via: 'id' | 'path',
    reason: string | undefined,
    context?: AuditRequestContext,
  ): Promise<RevealedSecret> {
    if (!credential) throw new Error('reveal needs an authorized credential');
    if (!row) throw new VersionNotFoundError(version);
    const now = new Date();
    const state = effectiveState(row, now);
    if (!isRevealable(row, now)) throw new VersionNotRevealableError(version, state);
    let secret: Record<string, unknown>;
    try {
      secret = this.crypto.open(credential.id, row);
    } catch (error) {
      // A value that no longer decrypts was changed, moved or wiped in the database.
      this.logger.error(
        `Version ${version} of credential ${credential.id} failed to decrypt: ${(error as Error).message}`,
      );
      throw error;
    }
    await this.audit.record(
      {
        action: 'credential.reveal',
        outcome: 'success',
        httpStatus: 200,
        resourceType: 'credential',
        resourceId: credential.id,
        details: { path: credential.path, version, state, via, ...(reason ? { reason } : {}) },
        context,
      },
      manager,
    );
    return {
      id: credential.id,
      path: credential.path,
      type: credential.type,
      version,
      state,
      secret,
    };
  }
}
