import { Controller, Get, HttpCode, Inject, Post, Req } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { ApiBody, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { Audit } from '../audit/http/audit.decorator';
import { ServiceTokens, TokenDescription } from '../auth/service-accounts/service-tokens';
import { ByGrant, LoginThrottled, Public } from '../common/auth/auth.decorators';
import { CurrentPrincipal } from '../common/auth/current-principal.decorator';
import type { Principal } from '../common/auth/principal';
import { VAULT_TOKEN_SCHEME } from '../common/http/openapi-schemes';
import { vaultCompatConfig } from '../config/vault-compat.config';
import { AppRoleLoginDto } from './dto/kv.dto';
import { VaultBody } from './vault-body';
import { VaultEnvelope, vaultEnvelope } from './vault-envelope';
import { VAULT_TAG } from './vault-sys.controller';
import { clock } from '../common/clock';

/**
 * Vault's AppRole login and token self-lookup. A role is a service account (role_id: its id), a
 * secret id one of its API keys; the token issued is a short-lived service token derived from
 * that key (see ServiceTokens).
 */
@ApiTags(VAULT_TAG)
@Controller('v1/auth')
export class VaultAuthController {
  constructor(
    private readonly tokens: ServiceTokens,
    @Inject(vaultCompatConfig.KEY) private readonly config: ConfigType<typeof vaultCompatConfig>,
  ) {}

  @Post('approle/login')
  @HttpCode(200)
  @Public()
  @LoginThrottled()
  @Audit('auth.approle.login', { resourceType: 'service_account' })
  @ApiOperation({ summary: 'AppRole login: role_id = service account id, secret_id = its API key' })
  @ApiBody({ type: AppRoleLoginDto })
  @ApiOkResponse({ description: "Vault's auth envelope with a client_token" })
  async login(
    @VaultBody() body: AppRoleLoginDto,
    @Req() request: FastifyRequest,
  ): Promise<VaultEnvelope> {
    const issued = await this.tokens.login(
      body.role_id,
      body.secret_id,
      this.config.tokenTtlSeconds,
    );
    if (request.auditContext) {
      request.auditContext.actor = {
        type: 'service',
        id: issued.principal.id,
        display: issued.principal.name,
      };
    }
    const ttl = Math.max(0, Math.round((issued.expiresAt.getTime() - clock.now()) / 1000));
    return vaultEnvelope(String(request.id), null, {
      auth: {
        client_token: issued.token,
        accessor: issued.accessor,
        policies: policiesOf(issued.principal),
        token_policies: policiesOf(issued.principal),
        metadata: { role_name: issued.principal.name },
        lease_duration: ttl,
        renewable: false,
        entity_id: issued.principal.id,
        token_type: 'service',
        orphan: true,
        mfa_requirement: null,
        num_uses: 0,
      },
    });
  }

  @Get('token/lookup-self')
  // Any authenticated principal: it describes only the caller's own token.
  @ByGrant('read')
  @Audit('auth.token.lookup-self')
  @ApiSecurity(VAULT_TOKEN_SCHEME)
  @ApiOperation({ summary: "The caller's token as Vault describes one (never another secret)" })
  @ApiOkResponse({ description: "{data: Vault's token data}" })
  async lookupSelf(
    @CurrentPrincipal() principal: Principal,
    @Req() request: FastifyRequest,
  ): Promise<VaultEnvelope> {
    return this.lookup(principal, request);
  }

  @Post('token/lookup-self')
  // Any authenticated principal: it describes only the caller's own token.
  @ByGrant('read')
  @HttpCode(200)
  @Audit('auth.token.lookup-self')
  @ApiSecurity(VAULT_TOKEN_SCHEME)
  @ApiOperation({ summary: 'The same as GET' })
  @ApiOkResponse({ description: "{data: Vault's token data}" })
  async lookupSelfPost(
    @CurrentPrincipal() principal: Principal,
    @Req() request: FastifyRequest,
  ): Promise<VaultEnvelope> {
    return this.lookup(principal, request);
  }

  @Post('token/renew-self')
  // Any authenticated principal: it describes only the caller's own token.
  @ByGrant('read')
  @HttpCode(200)
  @Audit('auth.token.renew-self')
  @ApiSecurity(VAULT_TOKEN_SCHEME)
  @ApiOperation({ summary: 'Renews nothing (renewable: false); answers the token as it is' })
  @ApiOkResponse({ description: "{auth: Vault's auth block}" })
  async renewSelf(
    @CurrentPrincipal() principal: Principal,
    @Req() request: FastifyRequest,
  ): Promise<VaultEnvelope> {
    const info = await this.tokens.describe(request);
    const token = tokenInfo(principal, info, sentToken(request));
    return vaultEnvelope(String(request.id), null, {
      auth: {
        client_token: token.id,
        accessor: token.accessor,
        policies: token.policies,
        token_policies: token.policies,
        metadata: token.meta,
        lease_duration: token.ttl,
        renewable: false,
        entity_id: token.entity_id,
        token_type: 'service',
        orphan: true,
      },
    });
  }

  private async lookup(principal: Principal, request: FastifyRequest): Promise<VaultEnvelope> {
    const info = await this.tokens.describe(request);
    return vaultEnvelope(String(request.id), tokenInfo(principal, info, sentToken(request)));
  }
}

/** Custos has no Vault policies: a service has its grants, a person their role and grants. */
export function policiesOf(principal: Principal): string[] {
  return principal.type === 'user'
    ? ['default', `custos-${principal.role}`]
    : ['default', 'custos-grants'];
}

/** Vault's token data (auth/token/lookup-self) for a Custos principal and its token. */
export function tokenInfo(
  principal: Principal,
  info: TokenDescription | null,
  sent: string,
  now: Date = clock.date(),
): {
  accessor: string;
  creation_time: number;
  creation_ttl: number;
  display_name: string;
  entity_id: string;
  expire_time: string | null;
  explicit_max_ttl: number;
  id: string;
  issue_time: string;
  meta: Record<string, string>;
  num_uses: number;
  orphan: boolean;
  path: string;
  policies: string[];
  renewable: boolean;
  ttl: number;
  type: string;
} {
  const issued = info?.issuedAt ?? null;
  const expires = info?.expiresAt ?? null;
  const seconds = (date: Date | null) => (date ? Math.floor(date.getTime() / 1000) : 0);
  const ttl = expires ? Math.max(0, Math.floor((expires.getTime() - now.getTime()) / 1000)) : 0;
  const name = principal.type === 'user' ? principal.email : principal.name;
  return {
    accessor: info?.accessor ?? '',
    creation_time: seconds(issued),
    creation_ttl: issued && expires ? seconds(expires) - seconds(issued) : 0,
    display_name: `${principal.type === 'user' ? 'user' : info?.kind === 'service-token' ? 'approle' : 'token'}-${name}`,
    entity_id: principal.id,
    expire_time: expires ? expires.toISOString() : null,
    explicit_max_ttl: 0,
    // Vault echoes the caller's own token; it is the one the caller sent.
    id: sent,
    issue_time: issued ? issued.toISOString() : '',
    meta:
      principal.type === 'user'
        ? { principal_type: 'user', email: principal.email, role: principal.role }
        : { principal_type: 'service', role_name: principal.name },
    num_uses: 0,
    orphan: true,
    path: info?.kind === 'service-token' ? 'auth/approle/login' : 'auth/token/create',
    policies: policiesOf(principal),
    renewable: false,
    ttl,
    type: 'service',
  };
}

/** The token as the caller sent it (X-Vault-Token, a bearer token or X-API-Key). */
function sentToken(request: FastifyRequest): string {
  const { 'x-api-key': apiKey, 'x-vault-token': vaultToken, authorization } = request.headers;
  if (typeof apiKey === 'string') return apiKey;
  if (typeof vaultToken === 'string' && vaultToken !== '') return vaultToken;
  const match = typeof authorization === 'string' ? /^Bearer (\S+)$/i.exec(authorization) : null;
  return match ? match[1] : '';
}
