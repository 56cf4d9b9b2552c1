import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import type passport from 'passport';
import { Strategy } from 'passport-custom';
import { DataSource } from 'typeorm';
import type { Principal } from '../../common/auth/principal';
import { InvalidTokenError } from '../auth.errors';
import { TokenService } from '../sessions/token.service';
import { User } from '../users/user.entity';
import { detachedPassport } from './detached';
import { presentedCredentials } from './request-credentials';

export const JWT_STRATEGY = 'jwt';

/**
 * People: a bearer access token, checked by TokenService (HS256 pinned, key by `kid`, issuer,
 * audience, expiry) and then against the user row, so disabling a user or raising their
 * token_version cuts their tokens at once. passport-custom rather than passport-jwt: the rules
 * live in TokenService, which also signs, and a second copy of them in passport-jwt's options
 * (algorithms, issuer, audience, a key provider decoding the header for `kid` again) could drift.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, JWT_STRATEGY) {
  constructor(
    private readonly tokens: TokenService,
    private readonly dataSource: DataSource,
  ) {
    super();
  }

  /** Registered with the app's own passport by AuthGuard, not the process-wide one. */
  getPassportInstance(): passport.Authenticator {
    return detachedPassport();
  }

  async validate(request: FastifyRequest): Promise<Principal | null> {
    const presented = presentedCredentials(request);
    if (presented.kind !== 'access-token') return null;
    const claims = await this.tokens.verifyAccess(presented.token);
    const user = await this.dataSource.getRepository(User).findOneBy({ id: claims.sub });
    if (!user || user.status !== 'active' || user.tokenVersion !== claims.tv) {
      throw new InvalidTokenError();
    }
    return {
      type: 'user',
      id: user.id,
      email: user.email,
      role: user.role,
      mustChangePassword: user.mustChangePassword,
      mfaEnabled: user.mfaEnabled,
    };
  }
}
