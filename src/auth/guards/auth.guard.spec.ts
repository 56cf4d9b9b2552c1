import { Reflector } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import type { DataSource } from 'typeorm';
import { strictFn } from '../../../test/helpers/controller-app';
import { AuditRequestContext } from '../../audit/audit-context';
import { ForbiddenError, InvalidTokenError } from '../auth.errors';
import type { Principal } from '../../common/auth/principal';
import type { AccessClaims, TokenService } from '../sessions/token.service';
import { User } from '../users/user.entity';
import { AllowPendingPasswordChange, Public, Roles } from '../../common/auth/auth.decorators';
import { ApiKeyAuthenticator } from '../service-accounts/api-key-authenticator';
import { ConfigType } from '@nestjs/config';
import { authConfig } from '../../config/auth.config';
import passport from 'passport';
import { API_KEY_STRATEGY, ApiKeyStrategy } from '../strategies/api-key.strategy';
import { JwtStrategy } from '../strategies/jwt.strategy';
import { AuthGuard } from './auth.guard';

// Tiny controllers whose only job is to carry the decorators' metadata.
class OpenController {
  @Public()
  health(): void {}
}

@Public()
class PublicClassController {
  ping(): void {}
}

class AccountController {
  list(): void {}

  @AllowPendingPasswordChange()
  changePassword(): void {}

  @Roles('admin')
  createUser(): void {}

  @Roles('admin', 'operator')
  rotate(): void {}
}

@Roles('admin')
class AdminController {
  settings(): void {}

  @Roles('auditor')
  auditOnly(): void {}
}

interface FakeRequest {
  headers: Record<string, string | undefined>;
  auditContext?: AuditRequestContext;
  principal?: Principal;
}

function user(overrides: Partial<User> = {}): User {
  return Object.assign(new User(), {
    id: 'usr_1',
    email: 'ada@example.com',
    role: 'operator',
    status: 'active',
    tokenVersion: 3,
    mustChangePassword: false,
    ...overrides,
  });
}

const CLAIMS: AccessClaims = { sub: 'usr_1', role: 'operator', tv: 3 };

describe('AuthGuard', () => {
  let sut: AuthGuard;
  let tokens: { verifyAccess: jest.Mock; verifyServiceToken: jest.Mock };
  let repository: { findOneBy: jest.Mock };
  let dataSource: { getRepository: jest.Mock };
  let apiKeys: { authenticate: jest.Mock; authenticateDerived: jest.Mock };
  let request: FakeRequest;

  function contextFor(controller: new () => object, handler: string): ExecutionContextHost {
    const method = (controller.prototype as Record<string, unknown>)[handler];
    if (typeof method !== 'function') throw new Error(`no handler ${handler}`);
    return new ExecutionContextHost([request, {}], controller as never, method);
  }

  /** A valid token for `found`, whatever verifyAccess and the repository are asked. */
  function arrange(found: User | null, claims: AccessClaims = CLAIMS): void {
    tokens.verifyAccess.mockResolvedValueOnce(claims);
    dataSource.getRepository.mockReturnValueOnce(repository);
    repository.findOneBy.mockResolvedValueOnce(found);
  }

  beforeEach(() => {
    tokens = {
      verifyAccess: strictFn('TokenService.verifyAccess'),
      verifyServiceToken: strictFn('TokenService.verifyServiceToken'),
    };
    repository = { findOneBy: strictFn('Repository.findOneBy') };
    dataSource = { getRepository: strictFn('DataSource.getRepository') };
    apiKeys = {
      authenticate: strictFn('ApiKeyAuthenticator.authenticate'),
      authenticateDerived: strictFn('ApiKeyAuthenticator.authenticateDerived'),
    };
    request = {
      headers: { authorization: 'Bearer tok.en' },
      auditContext: new AuditRequestContext('r', null, null),
    };
    sut = new AuthGuard(
      new Reflector(),
      { requireMfaForAdmins: false } as ConfigType<typeof authConfig>,
      new ApiKeyStrategy(
        apiKeys as unknown as ApiKeyAuthenticator,
        tokens as unknown as TokenService,
      ),
      new JwtStrategy(tokens as unknown as TokenService, dataSource as unknown as DataSource),
    );
  });

  describe('API keys', () => {
    const service = { type: 'service' as const, id: 'sa-1', name: 'billing' };
    const key = `cus_0123456789abcdef_${'k'.repeat(43)}`;

    it('should authenticate a service by X-API-Key, never as a user', async () => {
      request.headers = { 'x-api-key': key };
      apiKeys.authenticate.mockResolvedValueOnce(service);

      await expect(sut.canActivate(contextFor(AccountController, 'list'))).resolves.toBe(true);

      expect(apiKeys.authenticate).toHaveBeenCalledWith(key);
      expect(request.principal).toEqual(service);
      expect(request.auditContext?.actor).toEqual({
        type: 'service',
        id: 'sa-1',
        display: 'billing',
      });
    });

    it('should take an API key sent as a bearer token', async () => {
      request.headers = { authorization: `Bearer ${key}` };
      apiKeys.authenticate.mockResolvedValueOnce(service);

      await expect(sut.canActivate(contextFor(AccountController, 'list'))).resolves.toBe(true);
      expect(tokens.verifyAccess).not.toHaveBeenCalled();
    });

    it("should use its own strategies, not those of another app's guard in the process", async () => {
      const other = { authenticate: strictFn('other ApiKeyAuthenticator.authenticate') };
      new AuthGuard(
        new Reflector(),
        { requireMfaForAdmins: false } as ConfigType<typeof authConfig>,
        new ApiKeyStrategy(
          other as unknown as ApiKeyAuthenticator,
          tokens as unknown as TokenService,
        ),
        new JwtStrategy(tokens as unknown as TokenService, dataSource as unknown as DataSource),
      );
      request.headers = { 'x-api-key': key };
      apiKeys.authenticate.mockResolvedValueOnce(service);

      await expect(sut.canActivate(contextFor(AccountController, 'list'))).resolves.toBe(true);

      expect(other.authenticate).not.toHaveBeenCalled();
      // Nothing left in passport's process-wide registry for a later app to pick up.
      const global = passport as unknown as { _strategy(name: string): unknown };
      expect(global._strategy(API_KEY_STRATEGY)).toBeUndefined();
    });

    it('should take an API key sent as X-Vault-Token, as Vault clients send it', async () => {
      request.headers = { 'x-vault-token': key };
      apiKeys.authenticate.mockResolvedValueOnce(service);

      await expect(sut.canActivate(contextFor(AccountController, 'list'))).resolves.toBe(true);
      expect(apiKeys.authenticate).toHaveBeenCalledWith(key);
    });

    it('should check a service token against the key and account it came from', async () => {
      request.headers = { 'x-vault-token': 'cvt.a.b.c' };
      tokens.verifyServiceToken.mockResolvedValueOnce({ sub: 'sa-1', key: 'k1' });
      apiKeys.authenticateDerived.mockResolvedValueOnce(service);

      await expect(sut.canActivate(contextFor(AccountController, 'list'))).resolves.toBe(true);
      expect(apiKeys.authenticateDerived).toHaveBeenCalledWith('k1', 'sa-1');
      expect(request.principal).toEqual(service);
      expect(tokens.verifyAccess).not.toHaveBeenCalled();
    });

    it('should refuse a service token whose key was revoked, never trying it as a JWT', async () => {
      request.headers = { authorization: 'Bearer cvt.a.b.c' };
      tokens.verifyServiceToken.mockResolvedValueOnce({ sub: 'sa-1', key: 'k1' });
      apiKeys.authenticateDerived.mockRejectedValueOnce(new InvalidTokenError());

      await expect(sut.canActivate(contextFor(AccountController, 'list'))).rejects.toBeInstanceOf(
        InvalidTokenError,
      );
      expect(tokens.verifyAccess).not.toHaveBeenCalled();
    });

    it('should refuse a service on a role-restricted route', async () => {
      request.headers = { 'x-api-key': key };
      apiKeys.authenticate.mockResolvedValueOnce(service);

      await expect(sut.canActivate(contextFor(AdminController, 'settings'))).rejects.toBeInstanceOf(
        ForbiddenError,
      );
    });
  });

  describe('public routes', () => {
    it('should let a @Public() handler through without a header or a token check', async () => {
      request.headers = {};

      await expect(sut.canActivate(contextFor(OpenController, 'health'))).resolves.toBe(true);

      expect(tokens.verifyAccess).not.toHaveBeenCalled();
      expect(dataSource.getRepository).not.toHaveBeenCalled();
      expect(request.principal).toBeUndefined();
      expect(request.auditContext?.actor).toEqual({ type: 'anonymous' });
    });

    it('should let every handler of a @Public() class through', async () => {
      request.headers = {};

      await expect(sut.canActivate(contextFor(PublicClassController, 'ping'))).resolves.toBe(true);

      expect(tokens.verifyAccess).not.toHaveBeenCalled();
    });
  });

  describe('authentication', () => {
    it.each([
      ['no Authorization header', undefined],
      ['an empty header', ''],
      ['a Basic header', 'Basic YWRhOnB3'],
      ['a bare token without the scheme', 'tok.en'],
      ['Bearer without a token', 'Bearer '],
      ['a token with a space in it', 'Bearer tok en'],
    ])(
      'should refuse %s with InvalidTokenError without checking a token',
      async (_case, header) => {
        request.headers = { authorization: header };

        const result = sut.canActivate(contextFor(AccountController, 'list'));

        await expect(result).rejects.toBeInstanceOf(InvalidTokenError);
        await expect(result).rejects.toThrow('Authentication required');
        expect(tokens.verifyAccess).not.toHaveBeenCalled();
        expect(request.principal).toBeUndefined();
      },
    );

    it('should accept the scheme in any case', async () => {
      request.headers = { authorization: 'bearer tok.en' };
      arrange(user());

      await expect(sut.canActivate(contextFor(AccountController, 'list'))).resolves.toBe(true);

      expect(tokens.verifyAccess).toHaveBeenCalledWith('tok.en');
    });

    it('should let the error of a rejected token propagate without a lookup', async () => {
      const rejected = new InvalidTokenError();
      tokens.verifyAccess.mockRejectedValueOnce(rejected);

      await expect(sut.canActivate(contextFor(AccountController, 'list'))).rejects.toBe(rejected);

      expect(tokens.verifyAccess).toHaveBeenCalledWith('tok.en');
      expect(dataSource.getRepository).not.toHaveBeenCalled();
      expect(request.principal).toBeUndefined();
      expect(request.auditContext?.actor).toEqual({ type: 'anonymous' });
    });

    it.each([
      ['the user no longer exists', null],
      ['the user is disabled', user({ status: 'disabled' })],
      ['the token version was raised since', user({ tokenVersion: 4 })],
      ['the token version is older than the claim', user({ tokenVersion: 2 })],
    ])('should refuse with InvalidTokenError when %s', async (_case, found) => {
      arrange(found);

      await expect(sut.canActivate(contextFor(AccountController, 'list'))).rejects.toBeInstanceOf(
        InvalidTokenError,
      );

      expect(repository.findOneBy).toHaveBeenCalledWith({ id: 'usr_1' });
      expect(request.principal).toBeUndefined();
      expect(request.auditContext?.actor).toEqual({ type: 'anonymous' });
    });

    it('should look the user up by the subject of the token', async () => {
      arrange(user({ id: 'usr_9' }), { ...CLAIMS, sub: 'usr_9' });

      await sut.canActivate(contextFor(AccountController, 'list'));

      expect(dataSource.getRepository).toHaveBeenCalledWith(User);
      expect(repository.findOneBy).toHaveBeenCalledTimes(1);
      expect(repository.findOneBy).toHaveBeenCalledWith({ id: 'usr_9' });
    });

    it('should set the principal and the audit actor of an active user', async () => {
      arrange(user());

      await expect(sut.canActivate(contextFor(AccountController, 'list'))).resolves.toBe(true);

      expect(request.principal).toEqual({
        type: 'user',
        id: 'usr_1',
        email: 'ada@example.com',
        role: 'operator',
        mustChangePassword: false,
      });
      expect(request.auditContext?.actor).toEqual({
        type: 'user',
        id: 'usr_1',
        display: 'ada@example.com',
      });
    });

    it('should take the role from the user row, not from the token', async () => {
      arrange(user({ role: 'viewer' }), { ...CLAIMS, role: 'admin' });

      await expect(sut.canActivate(contextFor(AccountController, 'createUser'))).rejects.toThrow(
        ForbiddenError,
      );

      expect(request.principal).toMatchObject({ role: 'viewer' });
    });

    it('should still authenticate a request without an audit context', async () => {
      delete request.auditContext;
      arrange(user());

      await expect(sut.canActivate(contextFor(AccountController, 'list'))).resolves.toBe(true);

      expect(request.principal).toMatchObject({ type: 'user', id: 'usr_1' });
    });
  });

  describe('pending password change', () => {
    it('should refuse a user who must change the password with ForbiddenError', async () => {
      arrange(user({ mustChangePassword: true }));

      const result = sut.canActivate(contextFor(AccountController, 'list'));

      await expect(result).rejects.toBeInstanceOf(ForbiddenError);
      await expect(result).rejects.toThrow(/change your password/i);
      expect(request.principal).toMatchObject({ id: 'usr_1', mustChangePassword: true });
      expect(request.auditContext?.actor).toEqual({
        type: 'user',
        id: 'usr_1',
        display: 'ada@example.com',
      });
    });

    it('should let that user reach an @AllowPendingPasswordChange() handler', async () => {
      arrange(user({ mustChangePassword: true }));

      await expect(sut.canActivate(contextFor(AccountController, 'changePassword'))).resolves.toBe(
        true,
      );
    });

    it('should refuse that user on a role-restricted route even with the right role', async () => {
      arrange(user({ role: 'admin', mustChangePassword: true }));

      await expect(sut.canActivate(contextFor(AdminController, 'settings'))).rejects.toThrow(
        /change your password/i,
      );
    });
  });

  describe('roles', () => {
    it('should refuse an operator on an @Roles("admin") handler after setting the audit actor', async () => {
      arrange(user({ role: 'operator' }));

      const result = sut.canActivate(contextFor(AccountController, 'createUser'));

      await expect(result).rejects.toBeInstanceOf(ForbiddenError);
      await expect(result).rejects.toThrow('Not allowed');
      expect(request.principal).toMatchObject({ type: 'user', id: 'usr_1', role: 'operator' });
      expect(request.auditContext?.actor).toEqual({
        type: 'user',
        id: 'usr_1',
        display: 'ada@example.com',
      });
    });

    it('should let an admin through an @Roles("admin") handler', async () => {
      arrange(user({ role: 'admin' }));

      await expect(sut.canActivate(contextFor(AccountController, 'createUser'))).resolves.toBe(
        true,
      );
    });

    it.each(['admin', 'operator'] as const)(
      'should let an %s through a handler open to admins and operators',
      async (role) => {
        arrange(user({ role }));

        await expect(sut.canActivate(contextFor(AccountController, 'rotate'))).resolves.toBe(true);
      },
    );

    it.each(['auditor', 'viewer'] as const)(
      'should refuse an %s on a handler open to admins and operators',
      async (role) => {
        arrange(user({ role }));

        await expect(
          sut.canActivate(contextFor(AccountController, 'rotate')),
        ).rejects.toBeInstanceOf(ForbiddenError);
      },
    );

    it('should let any active user through a handler without @Roles', async () => {
      arrange(user({ role: 'viewer' }));

      await expect(sut.canActivate(contextFor(AccountController, 'list'))).resolves.toBe(true);
    });

    it('should apply class-level roles to a handler without its own', async () => {
      arrange(user({ role: 'operator' }));

      await expect(sut.canActivate(contextFor(AdminController, 'settings'))).rejects.toBeInstanceOf(
        ForbiddenError,
      );
      expect(request.auditContext?.actor).toMatchObject({ type: 'user', id: 'usr_1' });

      arrange(user({ role: 'admin' }));
      await expect(sut.canActivate(contextFor(AdminController, 'settings'))).resolves.toBe(true);
    });

    it('should let handler-level roles override the class-level ones', async () => {
      arrange(user({ role: 'auditor' }));
      await expect(sut.canActivate(contextFor(AdminController, 'auditOnly'))).resolves.toBe(true);

      arrange(user({ role: 'admin' }));
      await expect(
        sut.canActivate(contextFor(AdminController, 'auditOnly')),
      ).rejects.toBeInstanceOf(ForbiddenError);
    });
  });

  describe('identifyForAudit', () => {
    const identify = () => sut.identifyForAudit(request as never);

    it('should name nobody and look nothing up for a request without credentials', async () => {
      request.headers = {};
      await expect(identify()).resolves.toBeNull();
      // The strict mocks fail the test on any token check or lookup.
    });

    it('should name the user behind a valid token', async () => {
      arrange(user());
      await expect(identify()).resolves.toEqual({
        type: 'user',
        id: 'usr_1',
        display: 'ada@example.com',
      });
    });

    it('should name the service behind a valid API key', async () => {
      request.headers = { 'x-api-key': `cus_0123456789abcdef_${'k'.repeat(43)}` };
      apiKeys.authenticate.mockResolvedValueOnce({ type: 'service', id: 'sa-1', name: 'billing' });
      await expect(identify()).resolves.toEqual({
        type: 'service',
        id: 'sa-1',
        display: 'billing',
      });
    });

    it('should name nobody for an invalid token, without throwing', async () => {
      tokens.verifyAccess.mockRejectedValueOnce(new InvalidTokenError());
      await expect(identify()).resolves.toBeNull();
    });

    it('should neither set the principal nor check roles', async () => {
      arrange(user({ mustChangePassword: true }));
      await identify();
      expect(request.principal).toBeUndefined();
      expect(request.auditContext?.actor).toEqual({ type: 'anonymous' });
    });
  });
});
