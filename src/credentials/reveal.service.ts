import { Inject, Injectable, Logger } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuditEventInput, AuditRequestContext } from '../audit/audit-context';
import { AuditWriter } from '../audit/audit-writer';
import { AccessPolicy } from '../auth/grants/access-policy';
import type { Principal } from '../common/auth/principal';
import { credentialsConfig } from '../config/credentials.config';
import { dialectOf } from '../database/dialect';
import { DirectSql } from '../database/direct-sql';
import { retryLostRaces } from '../database/lost-race-retry';
import { TransactionRunner } from '../database/transaction-runner';
import { DomainError } from '../common/errors/domain-error';
import { CredentialAccess } from './credential-access';
import { CredentialMetrics } from './credential-metrics';
import {
  RevealReasonRequiredError,
  VersionNotFoundError,
  VersionNotRevealableError,
} from './credential.errors';
import type { Credential } from './entities/credential.entity';
import type { VersionState } from './entities/credential-version.entity';
import { RevealObservers } from './reveal-observers';
import { RevealGuardHooks } from './reveal-guard-hooks';
import { RevealLoad, revealQuery } from './reveal-query';
import { VersionCrypto } from './version-crypto';
import { effectiveState, isRevealable } from './version-states';

export interface RevealedSecret {
  id: string;
  path: string;
  type: Credential['type'];
  version: number;
  state: VersionState;
  /** The login that goes with this version's secret, when the credential has one. */
  username?: string;
  secret: Record<string, unknown>;
}

/** Reveals of one decoy at once race for its incident; each loser runs again. */
const DECOY_REVEAL_ATTEMPTS = 10;

/**
 * The only way to plaintext. A reveal changes nothing, so it reads outside any transaction and
 * holds no lock while it reads and decrypts; then its audit event joins the next group commit
 * (AuditWriter.record without a manager) and the secret is returned only once that commit is
 * done. If the event cannot be written, the caller gets a 500 and no secret (fail closed,
 * DESIGN.md §4.3). Grants are read in the same statement as the credential, on every request,
 * so a revoked grant takes effect at once.
 */
@Injectable()
export class RevealService {
  private readonly logger = new Logger(RevealService.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly sql: DirectSql,
    private readonly audit: AuditWriter,
    private readonly transactions: TransactionRunner,
    private readonly policy: AccessPolicy,
    private readonly access: CredentialAccess,
    private readonly crypto: VersionCrypto,
    private readonly metrics: CredentialMetrics,
    private readonly observers: RevealObservers,
    private readonly guards: RevealGuardHooks,
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
    const loaded = await this.load({ id }, principal, request.version);
    const revealed = await this.reveal(loaded, principal, 'id', request.reason, context);
    this.metrics.reveals.inc({ via: 'id', type: revealed.type });
    return revealed;
  }

  /**
   * For services: the current version by path (or a named, still revealable one: Vault KV
   * clients ask for `?version=N`). It takes no reason, so where people must give one they use
   * the reveal route instead: this one is no way around the rule.
   */
  async revealByPath(
    path: string,
    principal: Principal,
    context?: AuditRequestContext,
    version?: number,
  ): Promise<RevealedSecret> {
    if (principal.type === 'user' && this.config.revealReasonRequired) {
      throw new RevealReasonRequiredError('POST /credentials/{id}/reveal with a reason');
    }
    const loaded = await this.load({ path }, principal, version);
    const revealed = await this.reveal(loaded, principal, 'path', undefined, context);
    this.metrics.reveals.inc({ via: 'path', type: revealed.type });
    return revealed;
  }

  private async load(
    where: { id: string } | { path: string },
    principal: Principal,
    requested?: number,
  ): Promise<RevealLoad> {
    const dialect = dialectOf(this.dataSource);
    const query = revealQuery(
      dialect,
      where,
      requested,
      this.policy.grantsColumn(principal, dialect),
    );
    return query.read(await this.sql.select(query.sql, query.parameters));
  }

  private async reveal(
    { credential, version, row, grants, now }: RevealLoad,
    principal: Principal,
    via: 'id' | 'path',
    reason: string | undefined,
    context?: AuditRequestContext,
  ): Promise<RevealedSecret> {
    const found = this.access.check(
      this.policy.accessFrom(principal, grants),
      credential,
      'reveal',
    );
    // The caller may read this credential, so its audit event may name it.
    const known = { details: { credentialId: found.id, version } };
    await this.guards.check(principal, found).catch((error: unknown) => {
      throw error instanceof DomainError ? error.withAudit(known) : error;
    });
    if (!row) throw new VersionNotFoundError(version).withAudit(known);
    // The database's clock, as the grace was written with (an instance's own clock may be off).
    const state = effectiveState(row, now);
    if (!isRevealable(row, now)) {
      throw new VersionNotRevealableError(version, state).withAudit(known);
    }
    let secret: Record<string, unknown>;
    try {
      secret = this.crypto.open(found.id, row);
    } catch (error) {
      // A value that no longer decrypts was changed, moved or wiped in the database.
      this.logger.error(
        `Version ${version} of credential ${found.id} failed to decrypt: ${(error as Error).message}`,
      );
      throw error;
    }
    const event: AuditEventInput = {
      action: 'credential.reveal',
      outcome: 'success',
      httpStatus: 200,
      resourceType: 'credential',
      resourceId: found.id,
      details: { path: found.path, version, state, via, ...(reason ? { reason } : {}) },
      context,
    };
    if (found.decoy) {
      // The decoy's incident commits with the reveal's audit event; two reveals at once race for
      // the incident's dedupe slot, and the loser runs again to join the winner's incident
      // (READ COMMITTED, as IncidentRecorder.openOrAdd wants). The answer stays as usual, so the
      // intruder is not warned.
      const seen = { credentialId: found.id, path: found.path, version, via, principal, context };
      await retryLostRaces(
        () =>
          this.transactions.run(async (manager) => {
            await this.audit.record(event, manager);
            await this.observers.decoyRevealed(manager, seen);
          }, 'READ COMMITTED'),
        DECOY_REVEAL_ATTEMPTS,
      );
    } else {
      await this.audit.record(event);
    }
    return {
      id: found.id,
      path: found.path,
      type: found.type,
      version,
      state,
      ...(row.username ? { username: row.username } : {}),
      secret,
    };
  }
}
