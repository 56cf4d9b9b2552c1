import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import passport from 'passport';
import type { AuditActor } from '../../audit/audit-context';
import { authConfig } from '../../config/auth.config';
import { ForbiddenError, InvalidTokenError } from '../auth.errors';
import type { Principal } from '../../common/auth/principal';
import { Role } from '../../common/auth/access-vocabulary';
import { ALLOW_PENDING_PASSWORD_CHANGE, IS_PUBLIC, ROLES } from '../../common/auth/auth.decorators';
import { API_KEY_STRATEGY, ApiKeyStrategy } from '../strategies/api-key.strategy';
import { JWT_STRATEGY, JwtStrategy } from '../strategies/jwt.strategy';
import { carriesCredentials } from '../strategies/request-credentials';

/** In this order: a request with an API key is a service's, whatever else it carries. */
const STRATEGIES = [API_KEY_STRATEGY, JWT_STRATEGY];

/**
 * Global: every route needs a principal unless marked @Public(). Passport tries the API-key
 * strategy, then the JWT one; each passes on a request not meant for it and throws on a bad
 * credential, so the error a caller sees is the one of the credential it sent. Sets the
 * principal, and the audit actor, before checking roles, so a refused request is recorded with
 * who was refused.
 *
 * Not @nestjs/passport's AuthGuard(): that one authenticates through passport's process-wide
 * instance (see detached.ts); this guard owns the instance its strategies are registered with.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  private readonly passport = new passport.Passport();

  constructor(
    private readonly reflector: Reflector,
    @Inject(authConfig.KEY) private readonly config: ConfigType<typeof authConfig>,
    apiKeyStrategy: ApiKeyStrategy,
    jwtStrategy: JwtStrategy,
  ) {
    this.passport.use(API_KEY_STRATEGY, apiKeyStrategy);
    this.passport.use(JWT_STRATEGY, jwtStrategy);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const principal = await this.authenticate(request, http.getResponse<FastifyReply>());
    request.principal = principal;
    if (request.auditContext) request.auditContext.actor = auditActorOf(principal);
    const pendingAllowed = () =>
      this.reflector.getAllAndOverride<boolean>(ALLOW_PENDING_PASSWORD_CHANGE, targets);
    if (principal.type === 'user' && principal.mustChangePassword && !pendingAllowed()) {
      throw new ForbiddenError('Change your password first (POST /api/v1/auth/password)');
    }
    if (
      principal.type === 'user' &&
      principal.role === 'admin' &&
      !principal.mfaEnabled &&
      this.config.requireMfaForAdmins &&
      !pendingAllowed()
    ) {
      throw new ForbiddenError(
        'Admins need a second factor: POST /api/v1/auth/mfa/totp/enrol, then /confirm',
      );
    }
    const roles = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES, targets);
    if (roles && (principal.type !== 'user' || !roles.includes(principal.role))) {
      throw new ForbiddenError('Not allowed');
    }
    return true;
  }

  /**
   * Who sent a request this guard never saw (refused by routing, body parsing or the throttler),
   * for its audit event only; the answer does not depend on it. Null without credentials (and no
   * lookup then) or with invalid ones.
   */
  async identifyForAudit(request: FastifyRequest): Promise<AuditActor | null> {
    if (!carriesCredentials(request)) return null;
    try {
      return auditActorOf(await this.authenticate(request));
    } catch {
      return null;
    }
  }

  /**
   * Whether the key or token a request came with still authenticates `principal`: for a response
   * that lasts (the event stream), which must stop once the key is revoked, the token has expired
   * or the account is disabled. Any failure counts as no.
   */
  async stillAuthenticates(request: FastifyRequest, principal: Principal): Promise<boolean> {
    try {
      const current = await this.authenticate(request);
      return current.type === principal.type && current.id === principal.id;
    } catch {
      return false;
    }
  }

  /**
   * A strategy's own error (bad key, bad token) as it is; no credential at all: one message.
   * With a callback, passport answers nothing itself, so the reply may be absent.
   */
  private authenticate(request: FastifyRequest, reply?: FastifyReply): Promise<Principal> {
    return new Promise((resolve, reject) => {
      const done = (error: Error | null, principal: Principal | false) => {
        if (error) reject(error);
        else if (!principal) reject(new InvalidTokenError('Authentication required'));
        else resolve(principal);
      };
      const middleware = this.passport.authenticate(STRATEGIES, { session: false }, done) as (
        request: FastifyRequest,
        reply: FastifyReply | undefined,
        next: (error?: unknown) => void,
      ) => void;
      // Passport calls next() only on paths a callback-style authenticate never takes.
      middleware(request, reply, (error) =>
        reject(error instanceof Error ? error : new InvalidTokenError('Authentication required')),
      );
    });
  }
}

function auditActorOf(principal: Principal): AuditActor {
  return principal.type === 'user'
    ? { type: 'user', id: principal.id, display: principal.email }
    : { type: 'service', id: principal.id, display: principal.name };
}
