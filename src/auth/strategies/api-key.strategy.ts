import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import type passport from 'passport';
import { Strategy } from 'passport-custom';
import type { Principal } from '../../common/auth/principal';
import { ApiKeyAuthenticator } from '../service-accounts/api-key-authenticator';
import { TokenService } from '../sessions/token.service';
import { detachedPassport } from './detached';
import { presentedCredentials } from './request-credentials';

export const API_KEY_STRATEGY = 'api-key';

/**
 * Services: an API key in X-API-Key, X-Vault-Token or as a `cus_…` bearer token, or a service
 * token derived from one (`cvt.…`, Vault AppRole login), checked against its key and account on
 * every request. A request without either passes to the next strategy (null); a bad key or token
 * is an error, so it never falls through to the JWT check.
 */
@Injectable()
export class ApiKeyStrategy extends PassportStrategy(Strategy, API_KEY_STRATEGY) {
  constructor(
    private readonly apiKeys: ApiKeyAuthenticator,
    private readonly tokens: TokenService,
  ) {
    super();
  }

  /** Registered with the app's own passport by AuthGuard, not the process-wide one. */
  getPassportInstance(): passport.Authenticator {
    return detachedPassport();
  }

  async validate(request: FastifyRequest): Promise<Principal | null> {
    const presented = presentedCredentials(request);
    if (presented.kind === 'service-token') {
      const claims = await this.tokens.verifyServiceToken(presented.token);
      return this.apiKeys.authenticateDerived(claims.key, claims.sub);
    }
    if (presented.kind !== 'api-key') return null;
    return this.apiKeys.authenticate(presented.value);
  }
}
