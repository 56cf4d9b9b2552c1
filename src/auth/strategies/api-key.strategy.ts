import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import type passport from 'passport';
import { Strategy } from 'passport-custom';
import type { Principal } from '../../common/auth/principal';
import { ApiKeyAuthenticator } from '../service-accounts/api-key-authenticator';
import { detachedPassport } from './detached';
import { presentedCredentials } from './request-credentials';

export const API_KEY_STRATEGY = 'api-key';

/**
 * Services: an API key in X-API-Key or as a `cus_…` bearer token. A request without one passes
 * to the next strategy (null); a bad key is an error, so it never falls through to the JWT check.
 */
@Injectable()
export class ApiKeyStrategy extends PassportStrategy(Strategy, API_KEY_STRATEGY) {
  constructor(private readonly apiKeys: ApiKeyAuthenticator) {
    super();
  }

  /** Registered with the app's own passport by AuthGuard, not the process-wide one. */
  getPassportInstance(): passport.Authenticator {
    return detachedPassport();
  }

  async validate(request: FastifyRequest): Promise<Principal | null> {
    const presented = presentedCredentials(request);
    if (presented.kind !== 'api-key') return null;
    return this.apiKeys.authenticate(presented.value);
  }
}
