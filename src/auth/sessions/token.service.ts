import { Inject, Injectable } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { JwtService } from '@nestjs/jwt';
import { createHash, createSecretKey, KeyObject, randomBytes, randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { authConfig } from '../../config/auth.config';
import { KeyringService } from '../../crypto/keyring.service';
import { InvalidTokenError } from '../auth.errors';
import type { User } from '../users/user.entity';
import type { Role } from '../../common/auth/access-vocabulary';
import { SERVICE_TOKEN_PREFIX, ServiceTokenClaims } from '../service-accounts/service-token-format';
import { RefreshToken } from './refresh-token.entity';
import { clock } from '../../common/clock';

export interface AccessClaims {
  sub: string;
  role: Role;
  /** The user's token_version when issued; a raised version invalidates the token. */
  tv: number;
}

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
}

const ALGORITHM = 'HS256';
const CONFIGURED = 'configured JWT_SECRET';

/** Signs and checks access tokens (JWT, HS256 only) and issues opaque refresh tokens. */
@Injectable()
export class TokenService {
  private readonly keyObjects = new Map<string, KeyObject>();

  constructor(
    private readonly jwt: JwtService,
    private readonly keyring: KeyringService,
    @Inject(authConfig.KEY) private readonly config: ConfigType<typeof authConfig>,
  ) {}

  /** A new access token and the next refresh token of the family (a new family by default). */
  async issue(
    manager: EntityManager,
    user: User,
    familyId: string = randomUUID(),
  ): Promise<{ tokens: TokenPair; refreshTokenId: string }> {
    const claims: AccessClaims = { sub: user.id, role: user.role, tv: user.tokenVersion };
    const signing = this.signingKey();
    // iat (and so exp) from this instance's clock: jsonwebtoken would read Date.now() itself.
    const accessToken = await this.jwt.signAsync(
      { ...claims, iat: nowSeconds() },
      {
        secret: signing.key,
        ...(signing.keyId ? { keyid: signing.keyId } : {}),
        algorithm: ALGORITHM,
        expiresIn: this.config.accessTtlSeconds,
        issuer: this.config.issuer,
        audience: this.config.audience,
        jwtid: randomUUID(),
      },
    );
    const refresh = await this.createRefreshToken(manager, user.id, familyId);
    return {
      tokens: { accessToken, refreshToken: refresh.token, expiresIn: this.config.accessTtlSeconds },
      refreshTokenId: refresh.id,
    };
  }

  /** Checks signature, algorithm, issuer, audience and expiry; throws InvalidTokenError otherwise. */
  async verifyAccess(token: string): Promise<AccessClaims> {
    try {
      const claims = await this.jwt.verifyAsync<AccessClaims>(token, {
        secret: this.verifyingKey(token),
        algorithms: [ALGORITHM],
        clockTimestamp: nowSeconds(),
        issuer: this.config.issuer,
        audience: this.config.audience,
      });
      if (typeof claims.sub !== 'string' || typeof claims.tv !== 'number')
        throw new Error('claims');
      return claims;
    } catch {
      throw new InvalidTokenError();
    }
  }

  /**
   * A service token for `serviceAccountId`, derived from its API key `keyId`: a JWT under the
   * same key and rules as access tokens but another audience, so neither passes for the other.
   * It carries no capability of its own: each request checks the key and the account again.
   */
  async signServiceToken(
    serviceAccountId: string,
    keyId: string,
    ttlSeconds: number,
  ): Promise<{ token: string; claims: ServiceTokenClaims }> {
    const signing = this.signingKey();
    const jwt = await this.jwt.signAsync(
      { sub: serviceAccountId, key: keyId, iat: nowSeconds() },
      {
        secret: signing.key,
        ...(signing.keyId ? { keyid: signing.keyId } : {}),
        algorithm: ALGORITHM,
        expiresIn: ttlSeconds,
        issuer: this.config.issuer,
        audience: this.serviceAudience(),
        jwtid: randomUUID(),
      },
    );
    const claims = this.jwt.decode<ServiceTokenClaims>(jwt);
    return { token: `${SERVICE_TOKEN_PREFIX}${jwt}`, claims };
  }

  /** Checks a service token like an access token; throws InvalidTokenError otherwise. */
  async verifyServiceToken(token: string): Promise<ServiceTokenClaims> {
    if (!token.startsWith(SERVICE_TOKEN_PREFIX)) throw new InvalidTokenError();
    const jwt = token.slice(SERVICE_TOKEN_PREFIX.length);
    try {
      const claims = await this.jwt.verifyAsync<ServiceTokenClaims>(jwt, {
        secret: this.verifyingKey(jwt),
        algorithms: [ALGORITHM],
        clockTimestamp: nowSeconds(),
        issuer: this.config.issuer,
        audience: this.serviceAudience(),
      });
      if (typeof claims.sub !== 'string' || typeof claims.key !== 'string')
        throw new Error('claims');
      return claims;
    } catch {
      throw new InvalidTokenError();
    }
  }

  /** The claims of a person's access token already verified by the guard (for lookup-self). */
  decodeAccess(token: string): { iat?: number; exp?: number; jti?: string } | null {
    return this.jwt.decode<{ iat?: number; exp?: number; jti?: string } | null>(token);
  }

  private serviceAudience(): string {
    return `${this.config.audience}:service-token`;
  }

  hashRefreshToken(token: string): string {
    return createHash('sha256').update(token).digest('hex');
  }

  private async createRefreshToken(
    manager: EntityManager,
    userId: string,
    familyId: string,
  ): Promise<{ id: string; token: string }> {
    const token = `crt_${randomBytes(32).toString('base64url')}`;
    const id = randomUUID();
    await manager.insert(RefreshToken, {
      id,
      userId,
      familyId,
      tokenHash: this.hashRefreshToken(token),
      expiresAt: new Date(clock.now() + this.config.refreshTtlSeconds * 1000),
      revokedAt: null,
      replacedBy: null,
    });
    return { id, token };
  }

  /**
   * The configured secret, or in development a key derived from the active master key, named
   * in the token's `kid` so tokens signed before a master-key rotation stay valid.
   */
  private signingKey(): { key: Buffer; keyId?: string } {
    if (this.config.jwtSecret) return { key: this.secretKey(CONFIGURED, this.config.jwtSecret) };
    const { keyId, key } = this.keyring.currentPurposeKey('jwt');
    return { key: this.secretKey(keyId, key), keyId };
  }

  private verifyingKey(token: string): Buffer {
    if (this.config.jwtSecret) return this.secretKey(CONFIGURED, this.config.jwtSecret);
    const decoded = this.jwt.decode<{ header?: { kid?: unknown } } | null>(token, {
      complete: true,
    });
    const keyId = decoded?.header?.kid;
    const key = typeof keyId === 'string' ? this.keyring.purposeKeyFor(keyId, 'jwt') : undefined;
    if (!key) throw new InvalidTokenError();
    return this.secretKey(keyId as string, key);
  }

  /**
   * The key as a KeyObject, made once: given a string or Buffer, jsonwebtoken first tries to
   * parse it as a public key on every call and catches the failure, which costs more than the
   * HMAC itself. Typed as Buffer for @nestjs/jwt, which hands it on unchanged.
   */
  private secretKey(name: string, material: string | Buffer): Buffer {
    let key = this.keyObjects.get(name);
    if (!key) {
      key = createSecretKey(typeof material === 'string' ? Buffer.from(material) : material);
      this.keyObjects.set(name, key);
    }
    return key as unknown as Buffer;
  }
}

function nowSeconds(): number {
  return Math.floor(clock.now() / 1000);
}
