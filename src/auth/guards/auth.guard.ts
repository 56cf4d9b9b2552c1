import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { DataSource } from 'typeorm';
import type { AuditActor } from '../../audit/audit-context';
import { authConfig } from '../../config/auth.config';
import { ForbiddenError, InvalidTokenError } from '../auth.errors';
import type { Principal } from '../../common/auth/principal';
import { ApiKeyAuthenticator } from '../service-accounts/api-key-authenticator';
import { looksLikeApiKey } from '../service-accounts/api-key-format';
import { TokenService } from '../sessions/token.service';
import { User } from '../users/user.entity';
import { Role } from '../../common/auth/access-vocabulary';
import { ALLOW_PENDING_PASSWORD_CHANGE, IS_PUBLIC, ROLES } from '../../common/auth/auth.decorators';

/**
 * Global: every route needs a valid access token unless marked @Public(). The token must still
 * match the user's token_version, so disabling a user or changing their role or password cuts
 * their tokens at once. Sets the principal, and the audit actor, before checking roles, so a
 * refused request is recorded with who was refused.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: TokenService,
    private readonly dataSource: DataSource,
    private readonly apiKeys: ApiKeyAuthenticator,
    @Inject(authConfig.KEY) private readonly config: ConfigType<typeof authConfig>,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const principal = await this.authenticate(request);
    request.principal = principal;
    if (request.auditContext) request.auditContext.actor = auditActorOf(principal);
    if (
      principal.type === 'user' &&
      principal.mustChangePassword &&
      !this.reflector.getAllAndOverride<boolean>(ALLOW_PENDING_PASSWORD_CHANGE, targets)
    ) {
      throw new ForbiddenError('Change your password first (POST /api/v1/auth/password)');
    }
    if (
      principal.type === 'user' &&
      principal.role === 'admin' &&
      !principal.mfaEnabled &&
      this.config.requireMfaForAdmins &&
      !this.reflector.getAllAndOverride<boolean>(ALLOW_PENDING_PASSWORD_CHANGE, targets)
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
    const { authorization, 'x-api-key': apiKey } = request.headers;
    if (authorization === undefined && apiKey === undefined) return null;
    try {
      return auditActorOf(await this.authenticate(request));
    } catch {
      return null;
    }
  }

  private async authenticate(request: FastifyRequest): Promise<Principal> {
    const header = request.headers.authorization;
    const apiKeyHeader = request.headers['x-api-key'];
    const match = typeof header === 'string' ? /^Bearer ([^\s]+)$/i.exec(header) : null;
    if (typeof apiKeyHeader === 'string') return this.apiKeys.authenticate(apiKeyHeader);
    if (!match) throw new InvalidTokenError('Authentication required');
    // Services may send their key as a bearer token too.
    if (looksLikeApiKey(match[1])) return this.apiKeys.authenticate(match[1]);
    const claims = await this.tokens.verifyAccess(match[1]);
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

function auditActorOf(principal: Principal): AuditActor {
  return principal.type === 'user'
    ? { type: 'user', id: principal.id, display: principal.email }
    : { type: 'service', id: principal.id, display: principal.name };
}
