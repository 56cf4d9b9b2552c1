import type { ConfigType } from '@nestjs/config';
import { JwtService } from '@nestjs/jwt';
import { createHash } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { authConfig } from '../../config/auth.config';
import type { KeyringService } from '../../crypto/keyring.service';
import { InvalidTokenError } from '../auth.errors';
import type { User } from '../users/user.entity';
import { RefreshToken } from './refresh-token.entity';
import { TokenService } from './token.service';

type AuthConfig = ConfigType<typeof authConfig>;

const SECRET = 'x'.repeat(40);
const PURPOSE_KEY = Buffer.alloc(32, 7);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function config(overrides: Partial<AuthConfig> = {}): AuthConfig {
  return {
    jwtSecret: SECRET,
    issuer: 'custos',
    audience: 'custos-api',
    accessTtlSeconds: 900,
    refreshTtlSeconds: 3600,
    ...overrides,
  } as AuthConfig;
}

function user(): User {
  return { id: 'usr_1', role: 'operator', tokenVersion: 3 } as User;
}

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

describe('TokenService', () => {
  let sut: TokenService;
  let jwt: JwtService;
  let keyring: { purposeKey: jest.Mock; currentPurposeKey: jest.Mock; purposeKeyFor: jest.Mock };
  let manager: { insert: jest.Mock };

  /** A token shaped like ours, signed by hand; each option can be changed or left out. */
  function forge(
    payload: Record<string, unknown> = { sub: 'usr_1', role: 'operator', tv: 3 },
    options: {
      secret?: string | Buffer;
      algorithm?: 'HS256' | 'HS384' | 'HS512';
      issuer?: string;
      audience?: string;
      expiresIn?: number;
      keyid?: string;
    } = {},
  ): string {
    return jwt.sign(payload, {
      secret: SECRET,
      algorithm: 'HS256',
      issuer: 'custos',
      audience: 'custos-api',
      expiresIn: 900,
      ...options,
    });
  }

  beforeEach(() => {
    jwt = new JwtService({});
    keyring = {
      purposeKey: jest.fn(() => PURPOSE_KEY),
      currentPurposeKey: jest.fn(() => ({ keyId: 'k1', key: PURPOSE_KEY })),
      // Only k1 is held, as after removing a retired master key.
      purposeKeyFor: jest.fn((keyId: string) => (keyId === 'k1' ? PURPOSE_KEY : undefined)),
    };
    manager = { insert: jest.fn() };
    sut = new TokenService(jwt, keyring as unknown as KeyringService, config());
  });

  describe('issue', () => {
    it('should return an access token that verifyAccess accepts with the user claims', async () => {
      const { tokens } = await sut.issue(manager as unknown as EntityManager, user());

      await expect(sut.verifyAccess(tokens.accessToken)).resolves.toMatchObject({
        sub: 'usr_1',
        role: 'operator',
        tv: 3,
      });
      expect(tokens.expiresIn).toBe(900);
    });

    it('should sign with HS256 for the configured issuer and audience, for the access TTL', async () => {
      const { tokens } = await sut.issue(manager as unknown as EntityManager, user());

      const header = JSON.parse(
        Buffer.from(tokens.accessToken.split('.')[0], 'base64url').toString(),
      ) as Record<string, unknown>;
      const claims = jwt.decode<Record<string, unknown>>(tokens.accessToken);
      expect(header).toEqual({ alg: 'HS256', typ: 'JWT' });
      expect(claims).toMatchObject({ iss: 'custos', aud: 'custos-api', jti: expect.any(String) });
      expect(Number(claims.exp) - Number(claims.iat)).toBe(900);
      expect(keyring.purposeKey).not.toHaveBeenCalled();
    });

    it('should give each access token its own id', async () => {
      const first = await sut.issue(manager as unknown as EntityManager, user());
      const second = await sut.issue(manager as unknown as EntityManager, user());

      expect(jwt.decode<{ jti: string }>(first.tokens.accessToken).jti).not.toBe(
        jwt.decode<{ jti: string }>(second.tokens.accessToken).jti,
      );
    });

    it('should return an opaque crt_ refresh token and store only its SHA-256', async () => {
      const before = Date.now();
      const { tokens, refreshTokenId } = await sut.issue(
        manager as unknown as EntityManager,
        user(),
      );
      const after = Date.now();

      expect(tokens.refreshToken).toMatch(/^crt_[A-Za-z0-9_-]{43}$/);
      const sha256 = createHash('sha256').update(tokens.refreshToken).digest('hex');
      expect(sut.hashRefreshToken(tokens.refreshToken)).toBe(sha256);
      expect(manager.insert).toHaveBeenCalledTimes(1);
      const [entity, row] = manager.insert.mock.calls[0] as [unknown, Record<string, unknown>];
      expect(entity).toBe(RefreshToken);
      expect(row).toEqual({
        id: refreshTokenId,
        userId: 'usr_1',
        familyId: expect.stringMatching(UUID),
        tokenHash: sha256,
        expiresAt: expect.any(Date),
        revokedAt: null,
        replacedBy: null,
      });
      expect(refreshTokenId).toMatch(UUID);
      const expiresAt = (row.expiresAt as Date).getTime();
      expect(expiresAt).toBeGreaterThanOrEqual(before + 3600 * 1000);
      expect(expiresAt).toBeLessThanOrEqual(after + 3600 * 1000);
      expect(JSON.stringify(manager.insert.mock.calls)).not.toContain(tokens.refreshToken);
      expect(JSON.stringify(manager.insert.mock.calls)).not.toContain(tokens.refreshToken.slice(4));
    });

    it('should continue the given refresh family', async () => {
      await sut.issue(manager as unknown as EntityManager, user(), 'fam-1');

      expect(manager.insert).toHaveBeenCalledWith(
        RefreshToken,
        expect.objectContaining({ familyId: 'fam-1' }),
      );
    });

    it('should start a new family and a new refresh token on every login', async () => {
      const first = await sut.issue(manager as unknown as EntityManager, user());
      const second = await sut.issue(manager as unknown as EntityManager, user());

      const rows = manager.insert.mock.calls.map(([, row]) => row as { familyId: string });
      expect(rows[0].familyId).not.toBe(rows[1].familyId);
      expect(first.tokens.refreshToken).not.toBe(second.tokens.refreshToken);
      expect(first.refreshTokenId).not.toBe(second.refreshTokenId);
    });

    it('should fail when the refresh token cannot be stored', async () => {
      manager.insert.mockRejectedValueOnce(new Error('SQLITE_BUSY'));

      await expect(sut.issue(manager as unknown as EntityManager, user())).rejects.toThrow(
        'SQLITE_BUSY',
      );
    });
  });

  describe('hashRefreshToken', () => {
    it('should be the hex SHA-256 of the token', () => {
      expect(sut.hashRefreshToken('crt_abc')).toBe(
        createHash('sha256').update('crt_abc').digest('hex'),
      );
      expect(sut.hashRefreshToken('crt_abc')).toMatch(/^[0-9a-f]{64}$/);
    });
  });

  describe('verifyAccess', () => {
    it('should accept a token of ours and return its claims', async () => {
      await expect(sut.verifyAccess(forge())).resolves.toMatchObject({
        sub: 'usr_1',
        role: 'operator',
        tv: 3,
      });
    });

    it('should refuse an unsigned token with alg none', async () => {
      const now = Math.floor(Date.now() / 1000);
      const token = [
        base64url({ alg: 'none', typ: 'JWT' }),
        base64url({
          sub: 'usr_1',
          role: 'admin',
          tv: 3,
          iss: 'custos',
          aud: 'custos-api',
          iat: now,
          exp: now + 900,
        }),
        '',
      ].join('.');

      await expect(sut.verifyAccess(token)).rejects.toBeInstanceOf(InvalidTokenError);
    });

    it('should refuse a token whose payload was changed after signing', async () => {
      const [header, , signature] = forge().split('.');
      const now = Math.floor(Date.now() / 1000);
      const payload = base64url({
        sub: 'usr_1',
        role: 'admin',
        tv: 3,
        iss: 'custos',
        aud: 'custos-api',
        iat: now,
        exp: now + 900,
      });

      await expect(sut.verifyAccess(`${header}.${payload}.${signature}`)).rejects.toBeInstanceOf(
        InvalidTokenError,
      );
    });

    it.each([
      ['signed with another secret', { secret: 'y'.repeat(40) }],
      ['signed with the keyring key while a secret is configured', { secret: PURPOSE_KEY }],
      ['signed with HS512 and the right secret', { algorithm: 'HS512' as const }],
      ['signed with HS384 and the right secret', { algorithm: 'HS384' as const }],
      ['expired', { expiresIn: -60 }],
      ['for another audience', { audience: 'other-api' }],
      ['from another issuer', { issuer: 'someone-else' }],
    ])('should refuse a token %s with InvalidTokenError', async (_case, options) => {
      await expect(sut.verifyAccess(forge(undefined, options))).rejects.toBeInstanceOf(
        InvalidTokenError,
      );
    });

    it.each([
      ['without tv', { sub: 'usr_1', role: 'operator' }],
      ['with a tv that is not a number', { sub: 'usr_1', role: 'operator', tv: '3' }],
      ['without sub', { role: 'operator', tv: 3 }],
      ['with a sub that is not a string', { sub: 1, role: 'operator', tv: 3 }],
    ])('should refuse a well-signed token %s', async (_case, payload) => {
      await expect(sut.verifyAccess(forge(payload))).rejects.toBeInstanceOf(InvalidTokenError);
    });

    it.each([
      ['garbage', 'not-a-jwt'],
      ['an empty string', ''],
      ['three dots of nothing', '..'],
      ['base64 that is not JSON', 'a.b.c'],
    ])('should refuse %s with InvalidTokenError', async (_case, token) => {
      await expect(sut.verifyAccess(token)).rejects.toBeInstanceOf(InvalidTokenError);
    });
  });

  describe('without a configured secret', () => {
    beforeEach(() => {
      sut = new TokenService(
        jwt,
        keyring as unknown as KeyringService,
        config({ jwtSecret: undefined }),
      );
    });

    it('should sign with the jwt purpose key of the active master key, naming it in kid', async () => {
      const { tokens } = await sut.issue(manager as unknown as EntityManager, user());

      expect(keyring.currentPurposeKey).toHaveBeenCalledWith('jwt');
      expect(jwt.verify(tokens.accessToken, { secret: PURPOSE_KEY })).toMatchObject({
        sub: 'usr_1',
      });
      expect(jwt.decode(tokens.accessToken, { complete: true }).header.kid).toBe('k1');
      await expect(sut.verifyAccess(tokens.accessToken)).resolves.toMatchObject({ tv: 3 });
    });

    it('should accept a token signed with the purpose key of the master key in its kid', async () => {
      await expect(
        sut.verifyAccess(forge(undefined, { secret: PURPOSE_KEY, keyid: 'k1' })),
      ).resolves.toMatchObject({ sub: 'usr_1', role: 'operator', tv: 3 });
      expect(keyring.purposeKeyFor).toHaveBeenCalledWith('k1', 'jwt');
    });

    it.each([
      ['no kid', {}],
      ['the kid of a master key not held', { keyid: 'k0' }],
    ])('should refuse a token with %s', async (_case, options) => {
      await expect(
        sut.verifyAccess(forge(undefined, { secret: PURPOSE_KEY, ...options })),
      ).rejects.toBeInstanceOf(InvalidTokenError);
    });

    it('should refuse a token signed with a configured-style secret', async () => {
      await expect(sut.verifyAccess(forge(undefined, { secret: SECRET }))).rejects.toBeInstanceOf(
        InvalidTokenError,
      );
    });
  });
});
