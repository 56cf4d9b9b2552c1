import { Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { Principal } from '../../common/auth/principal';
import { DomainError } from '../../common/errors/domain-error';
import { TokenService } from '../sessions/token.service';
import { presentedCredentials } from '../strategies/request-credentials';
import { ApiKeyAuthenticator } from './api-key-authenticator';
import { parseApiKey } from './api-key-format';
import { clock } from '../../common/clock';

/** Vault's own words for any failed AppRole login, whatever failed. */
export class InvalidRoleOrSecretError extends DomainError {
  readonly kind = 'invalid';

  constructor() {
    super('invalid role or secret ID');
  }
}

export interface IssuedServiceToken {
  token: string;
  principal: Extract<Principal, { type: 'service' }>;
  /** The token's own id (its `jti`), never a secret. */
  accessor: string;
  issuedAt: Date;
  expiresAt: Date;
}

/** What a request's token is, for Vault's token lookup; never any secret part of it. */
export interface TokenDescription {
  kind: 'api-key' | 'service-token' | 'access-token';
  accessor: string;
  issuedAt: Date | null;
  expiresAt: Date | null;
}

/**
 * Service tokens: short-lived tokens a service account gets for one of its API keys (the Vault
 * AppRole login). A token holds no rights of its own; every request checks the key it came from
 * and the account (ApiKeyStrategy), so revoking the key, or suspending or disabling the account,
 * ends every token derived from it at once. It never outlives its key.
 */
@Injectable()
export class ServiceTokens {
  constructor(
    private readonly apiKeys: ApiKeyAuthenticator,
    private readonly tokens: TokenService,
  ) {}

  /**
   * `serviceAccountId` must own the API key `apiKey`, which must be valid now. Every failure is
   * the same InvalidRoleOrSecretError (no probing for account ids).
   */
  async login(
    serviceAccountId: string,
    apiKey: string,
    ttlSeconds: number,
  ): Promise<IssuedServiceToken> {
    const parsed = parseApiKey(apiKey);
    const principal = parsed ? await this.apiKeys.authenticate(apiKey).catch(() => null) : null;
    if (
      !parsed ||
      !principal ||
      principal.type !== 'service' ||
      principal.id !== serviceAccountId
    ) {
      throw new InvalidRoleOrSecretError().withAudit({ outcome: 'denied' });
    }
    const keyExpiry = await this.apiKeys.expiryOf(parsed.id);
    const keyLeft = keyExpiry ? Math.floor((keyExpiry.getTime() - clock.now()) / 1000) : Infinity;
    const ttl = Math.max(1, Math.min(ttlSeconds, keyLeft));
    const { token, claims } = await this.tokens.signServiceToken(principal.id, parsed.id, ttl);
    return {
      token,
      principal,
      accessor: claims.jti,
      issuedAt: new Date(claims.iat * 1000),
      expiresAt: new Date(claims.exp * 1000),
    };
  }

  /** The token of a request the guard has already authenticated. */
  async describe(request: FastifyRequest): Promise<TokenDescription | null> {
    const presented = presentedCredentials(request);
    if (presented.kind === 'service-token') {
      const claims = await this.tokens.verifyServiceToken(presented.token);
      return {
        kind: 'service-token',
        accessor: claims.jti,
        issuedAt: new Date(claims.iat * 1000),
        expiresAt: new Date(claims.exp * 1000),
      };
    }
    if (presented.kind === 'api-key') {
      const parsed = parseApiKey(presented.value);
      if (!parsed) return null;
      return {
        kind: 'api-key',
        accessor: parsed.id,
        issuedAt: null,
        expiresAt: await this.apiKeys.expiryOf(parsed.id),
      };
    }
    if (presented.kind === 'access-token') {
      const claims = this.tokens.decodeAccess(presented.token);
      if (!claims) return null;
      return {
        kind: 'access-token',
        accessor: claims.jti ?? '',
        issuedAt: claims.iat ? new Date(claims.iat * 1000) : null,
        expiresAt: claims.exp ? new Date(claims.exp * 1000) : null,
      };
    }
    return null;
  }
}
