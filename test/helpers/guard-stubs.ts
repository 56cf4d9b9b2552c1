import { Provider } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { createHash } from 'node:crypto';
import { InvalidTokenError } from '../../src/auth/auth.errors';
import { AuthGuard } from '../../src/auth/guards/auth.guard';
import { ApiKeyAuthenticator } from '../../src/auth/service-accounts/api-key-authenticator';
import { AccessClaims, TokenService } from '../../src/auth/sessions/token.service';
import { ApiKeyStrategy } from '../../src/auth/strategies/api-key.strategy';
import { JwtStrategy } from '../../src/auth/strategies/jwt.strategy';
import { User } from '../../src/auth/users/user.entity';
import type { Role } from '../../src/common/auth/access-vocabulary';
import type { Principal } from '../../src/common/auth/principal';
import { authConfig } from '../../src/config/auth.config';

/** The id of the user a `bearerOf(role)` token stands for. */
export function userIdOf(role: Role): string {
  return `usr_${role}`;
}

/** The id of the service account a `serviceKeyOf(name)` key stands for. */
export function serviceIdOf(name: string): string {
  return `svc_${name}`;
}

export function bearerOf(role: Role): Record<string, string> {
  return { authorization: `Bearer role-${role}` };
}

export function serviceKeyOf(name: string): Record<string, string> {
  const id = createHash('sha256').update(name).digest('hex').slice(0, 16);
  return { 'x-api-key': `cus_${id}_${name.padEnd(43, '_')}` };
}

/** The users table as JwtStrategy reads it: every `usr_<role>` exists, active, with MFA. */
export const STUB_USERS = {
  findOneBy: ({ id }: { id: string }) =>
    Promise.resolve(
      Object.assign(new User(), {
        id,
        email: `${id}@example.com`,
        role: id.slice('usr_'.length),
        status: 'active',
        tokenVersion: 1,
        mustChangePassword: false,
        mfaEnabled: true,
      }),
    ),
};

/**
 * The real AuthGuard as the global guard, with its token, user and API-key lookups stubbed: a
 * bearer `role-<role>` is a signed-in user of that role, a key of serviceKeyOf(name) the service
 * account `name`, anything else is refused. Provide a DataSource whose getRepository(User)
 * answers STUB_USERS.
 */
export function realAuthGuard(): Provider[] {
  const tokens = {
    verifyAccess: (token: string): Promise<AccessClaims> => {
      const role = /^role-(\w+)$/.exec(token)?.[1];
      if (!role) return Promise.reject(new InvalidTokenError());
      return Promise.resolve({ sub: userIdOf(role as Role), role: role as Role, tv: 1 });
    },
  };
  const apiKeys = {
    authenticate: (key: string): Promise<Principal> => {
      const name = /^cus_[0-9a-f]{16}_([a-z0-9-]+)_*$/.exec(key)?.[1];
      if (!name) return Promise.reject(new InvalidTokenError('Invalid API key'));
      return Promise.resolve({ type: 'service', id: serviceIdOf(name), name });
    },
  };
  return [
    { provide: TokenService, useValue: tokens },
    { provide: ApiKeyAuthenticator, useValue: apiKeys },
    ApiKeyStrategy,
    JwtStrategy,
    { provide: authConfig.KEY, useValue: { requireMfaForAdmins: false } },
    { provide: APP_GUARD, useClass: AuthGuard },
  ];
}
