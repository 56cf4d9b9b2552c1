import type { FastifyRequest } from 'fastify';
import { strictFn } from '../../../test/helpers/controller-app';
import type { TokenService } from '../sessions/token.service';
import type { ApiKeyAuthenticator } from './api-key-authenticator';
import { InvalidRoleOrSecretError, ServiceTokens } from './service-tokens';

const KEY = `cus_0123456789abcdef_${'k'.repeat(43)}`;
const SERVICE = { type: 'service' as const, id: 'sa-1', name: 'billing' };
const NOW_S = Math.floor(Date.now() / 1000);

describe('ServiceTokens', () => {
  let sut: ServiceTokens;
  let apiKeys: { authenticate: jest.Mock; expiryOf: jest.Mock };
  let tokens: {
    signServiceToken: jest.Mock;
    verifyServiceToken: jest.Mock;
    decodeAccess: jest.Mock;
  };

  beforeEach(() => {
    apiKeys = {
      authenticate: strictFn('ApiKeyAuthenticator.authenticate'),
      expiryOf: strictFn('ApiKeyAuthenticator.expiryOf'),
    };
    tokens = {
      signServiceToken: strictFn('TokenService.signServiceToken'),
      verifyServiceToken: strictFn('TokenService.verifyServiceToken'),
      decodeAccess: strictFn('TokenService.decodeAccess'),
    };
    sut = new ServiceTokens(
      apiKeys as unknown as ApiKeyAuthenticator,
      tokens as unknown as TokenService,
    );
  });

  describe('login', () => {
    it('should issue a token for the account that owns the key, naming the key', async () => {
      apiKeys.authenticate.mockResolvedValueOnce(SERVICE);
      apiKeys.expiryOf.mockResolvedValueOnce(null);
      tokens.signServiceToken.mockResolvedValueOnce({
        token: 'cvt.x',
        claims: { sub: 'sa-1', key: '0123456789abcdef', iat: NOW_S, exp: NOW_S + 3600, jti: 'j1' },
      });

      const issued = await sut.login('sa-1', KEY, 3600);

      expect(tokens.signServiceToken).toHaveBeenCalledWith('sa-1', '0123456789abcdef', 3600);
      expect(issued).toEqual(
        expect.objectContaining({ token: 'cvt.x', principal: SERVICE, accessor: 'j1' }),
      );
    });

    it('should never let the token outlive its key', async () => {
      apiKeys.authenticate.mockResolvedValueOnce(SERVICE);
      apiKeys.expiryOf.mockResolvedValueOnce(new Date(Date.now() + 600_000));
      tokens.signServiceToken.mockResolvedValueOnce({
        token: 'cvt.x',
        claims: { sub: 'sa-1', key: 'k', iat: NOW_S, exp: NOW_S + 600, jti: 'j' },
      });

      await sut.login('sa-1', KEY, 3600);

      const ttl = tokens.signServiceToken.mock.calls[0][2] as number;
      expect(ttl).toBeGreaterThan(590);
      expect(ttl).toBeLessThanOrEqual(600);
    });

    it('should refuse a key of another account with the one generic error', async () => {
      apiKeys.authenticate.mockResolvedValueOnce({ ...SERVICE, id: 'sa-2' });

      await expect(sut.login('sa-1', KEY, 3600)).rejects.toThrow(InvalidRoleOrSecretError);
      expect(tokens.signServiceToken).not.toHaveBeenCalled();
    });

    it('should refuse an invalid or malformed key with the same error, audited as denied', async () => {
      apiKeys.authenticate.mockRejectedValueOnce(new Error('Invalid API key'));

      const refused = await sut.login('sa-1', KEY, 3600).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(InvalidRoleOrSecretError);
      expect((refused as InvalidRoleOrSecretError).message).toBe('invalid role or secret ID');
      expect((refused as InvalidRoleOrSecretError).auditHint).toEqual({ outcome: 'denied' });
      await expect(sut.login('sa-1', 'not-a-key', 3600)).rejects.toThrow(InvalidRoleOrSecretError);
    });
  });

  describe('describe', () => {
    const request = (headers: Record<string, string>) => ({ headers }) as unknown as FastifyRequest;

    it('should describe an API key by its id, never its secret', async () => {
      apiKeys.expiryOf.mockResolvedValueOnce(null);

      expect(await sut.describe(request({ 'x-vault-token': KEY }))).toEqual({
        kind: 'api-key',
        accessor: '0123456789abcdef',
        issuedAt: null,
        expiresAt: null,
      });
    });

    it('should describe a service token by its claims', async () => {
      tokens.verifyServiceToken.mockResolvedValueOnce({ iat: 100, exp: 200, jti: 'j1' });

      expect(await sut.describe(request({ 'x-vault-token': 'cvt.x' }))).toEqual({
        kind: 'service-token',
        accessor: 'j1',
        issuedAt: new Date(100_000),
        expiresAt: new Date(200_000),
      });
    });

    it('should describe a person’s access token by its claims', async () => {
      tokens.decodeAccess.mockReturnValueOnce({ iat: 100, exp: 200, jti: 'j2' });

      expect(await sut.describe(request({ authorization: 'Bearer a.b.c' }))).toEqual(
        expect.objectContaining({ kind: 'access-token', accessor: 'j2' }),
      );
    });
  });
});
