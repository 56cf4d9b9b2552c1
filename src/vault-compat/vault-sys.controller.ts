import { Controller, Get, Inject, Query, Res } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { createHash } from 'node:crypto';
import { Audit } from '../audit/http/audit.decorator';
import { Public } from '../common/auth/auth.decorators';
import { authConfig } from '../config/auth.config';
import { KeyringService } from '../crypto/keyring.service';
import {
  healthBody,
  HealthQuery,
  HealthQueryError,
  HealthState,
  healthStatusCode,
} from './vault-health';

export const VAULT_TAG = 'vault-compat';

/** Vault's `sys/health`, for load balancers and clients that probe before they log in. */
@ApiTags(VAULT_TAG)
@Controller('v1/sys')
export class VaultSysController {
  private readonly clusterId: string;

  constructor(
    private readonly keyring: KeyringService,
    @Inject(authConfig.KEY) auth: ConfigType<typeof authConfig>,
  ) {
    this.clusterId = uuidOf(`custos-cluster|${auth.issuer}|${auth.audience}`);
  }

  @Get('health')
  @Public()
  @Audit('vault.health.read')
  @ApiOperation({
    summary: "Vault's health: 200 active, 503 sealed; standbyok, activecode, sealedcode… override",
  })
  @ApiOkResponse({ description: 'Initialized, unsealed and active' })
  @ApiResponse({ status: 503, description: 'Sealed' })
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
    const body = healthBody(state, new Date(), { name: 'custos', id: this.clusterId });
    void reply.code(status).header('cache-control', 'no-store').send(body);
  }
}

/** A stable UUID-shaped id from `seed`: the same for every instance of one deployment. */
function uuidOf(seed: string): string {
  const hex = createHash('sha256').update(seed).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
