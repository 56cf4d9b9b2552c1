import { Controller, Get, Inject, Query, Req, Res } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { ApiOkResponse, ApiOperation, ApiParam, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createHash } from 'node:crypto';
import { Audit } from '../audit/http/audit.decorator';
import { MAX_PATH_LENGTH } from '../auth/grants/path-pattern';
import { ByGrant, Public } from '../common/auth/auth.decorators';
import { VAULT_TOKEN_SCHEME } from '../common/http/openapi-schemes';
import { authConfig } from '../config/auth.config';
import { vaultCompatConfig } from '../config/vault-compat.config';
import { KeyringService } from '../crypto/keyring.service';
import { WildcardPath } from '../credentials/http/wildcard-path.decorator';
import {
  healthBody,
  HealthQuery,
  HealthQueryError,
  HealthState,
  healthStatusCode,
  sealStatusBody,
} from './vault-health';
import { VaultEnvelope, vaultEnvelope } from './vault-envelope';
import { findMount } from './vault-paths';
import { VaultNoHandlerError } from './vault.errors';
import { clock } from '../common/clock';

export const VAULT_TAG = 'vault-compat';

/** Vault's `sys/health`, for load balancers and clients that probe before they log in. */
@ApiTags(VAULT_TAG)
@Controller('v1/sys')
export class VaultSysController {
  private readonly clusterId: string;

  constructor(
    private readonly keyring: KeyringService,
    @Inject(authConfig.KEY) auth: ConfigType<typeof authConfig>,
    @Inject(vaultCompatConfig.KEY) private readonly config: ConfigType<typeof vaultCompatConfig>,
  ) {
    this.clusterId = uuidOf(`custos-cluster|${auth.issuer}|${auth.audience}`);
  }

  @Get('health')
  @Public()
  @Audit('vault.health.read')
  @ApiOperation({
    summary: "Vault's health: 200 active, 503 sealed; standbyok, activecode, sealedcode… override",
  })
  // Sealed answers 503 with the same body (not a Custos error body), so only 200 is documented.
  @ApiOkResponse({ description: 'Initialized, unsealed and active (503 with this body: sealed)' })
  // Fastify answers HEAD from this route too, without the body.
  health(@Query() query: HealthQuery, @Res() reply: FastifyReply): void {
    const state: HealthState = {
      initialized: true,
      sealed: this.keyring.isSealed(),
      standby: false,
      performanceStandby: false,
      drSecondary: false,
    };
    let status: number;
    try {
      status = healthStatusCode(state, query ?? {});
    } catch (error) {
      if (!(error instanceof HealthQueryError)) throw error;
      void reply.code(400).send({ errors: [error.message] });
      return;
    }
    const body = healthBody(state, clock.date(), { name: 'custos', id: this.clusterId });
    void reply.code(status).header('cache-control', 'no-store').send(body);
  }

  @Get('seal-status')
  @Public()
  @Audit('vault.seal-status.read')
  @ApiOperation({ summary: "Vault's seal status (node-vault's status())" })
  @ApiOkResponse({ description: '{type, initialized, sealed, t, n, progress, version, …}' })
  sealStatus(): Record<string, unknown> {
    return sealStatusBody(this.keyring.isSealed(), { name: 'custos', id: this.clusterId });
  }

  @Get('internal/ui/mounts/*')
  // Any authenticated principal: it names the mount only, never what is in it.
  @ByGrant('read')
  @Audit('vault.mount.read')
  @ApiSecurity(VAULT_TOKEN_SCHEME)
  @ApiOperation({
    summary: "Which engine serves a path: the Vault CLI's check that a mount is KV version 2",
  })
  @ApiOkResponse({ description: "{data: {path: 'secret/', type: 'kv', options: {version: '2'}}}" })
  @ApiParam({
    name: 'path',
    description: 'A path under a mount',
    schema: { type: 'string', maxLength: MAX_PATH_LENGTH, example: 'secret/acme/prod/db' },
  })
  mountOf(@WildcardPath() rest: string, @Req() request: FastifyRequest): VaultEnvelope {
    const name = rest.replace(/^\/+/, '').split('/')[0];
    const mount = findMount(this.config.mounts, name);
    if (!mount) throw new VaultNoHandlerError();
    return vaultEnvelope(String(request.id), {
      path: `${mount.name}/`,
      type: 'kv',
      description: mount.prefix ? `Custos credentials under ${mount.prefix}` : 'Custos credentials',
      options: { version: '2' },
      accessor: `kv_${mount.name}`,
      config: { default_lease_ttl: 0, max_lease_ttl: 0, force_no_cache: false },
      local: false,
      seal_wrap: false,
      external_entropy_access: false,
      uuid: uuidOf(`mount|${mount.name}|${mount.prefix}`),
    });
  }
}

/** A stable UUID-shaped id from `seed`: the same for every instance of one deployment. */
function uuidOf(seed: string): string {
  const hex = createHash('sha256').update(seed).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
