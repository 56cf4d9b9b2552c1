import { RevealThrottled } from '../common/http/reveal-throttle';
import {
  Controller,
  Delete,
  Get,
  Header,
  HttpCode,
  Param,
  Post,
  Put,
  Query,
  Req,
} from '@nestjs/common';
import {
  ApiBody,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiSecurity,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { AuditRequestContext } from '../audit/audit-context';
import { Audit } from '../audit/http/audit.decorator';
import { AuditCtx } from '../audit/http/audit-context.decorator';
import { ByGrant, Roles } from '../common/auth/auth.decorators';
import { CurrentPrincipal } from '../common/auth/current-principal.decorator';
import type { Principal } from '../common/auth/principal';
import { VAULT_TOKEN_SCHEME } from '../common/http/openapi-schemes';
import { RequestValidationError } from '../common/validation/request-validation.error';
import { MAX_PATH_LENGTH } from '../auth/grants/path-pattern';
import { MAX_MOUNT_LENGTH } from '../config/vault-compat.config';
import { WildcardPath } from '../credentials/http/wildcard-path.decorator';
import { KV_WRITE_PARAMETERS, KvDestroyDto, KvWriteDto } from './dto/kv.dto';
import { ignoredParametersWarning, VaultBody } from './vault-body';
import { VaultEnvelope, vaultEnvelope } from './vault-envelope';
import { VaultKvService } from './vault-kv.service';
import { VAULT_TAG } from './vault-sys.controller';

const PATH = { resourceType: 'credential_path', detailParams: { mount: 'mount', vaultPath: '*' } };

/** Vault KV v2 under `/v1/<mount>/…`, on the native services: same grants, same audit actions. */
@ApiTags(VAULT_TAG)
@ApiSecurity(VAULT_TOKEN_SCHEME)
@ApiParam({
  name: 'mount',
  description: 'A mount of VAULT_COMPAT_MOUNTS',
  schema: { type: 'string', maxLength: MAX_MOUNT_LENGTH, example: 'secret' },
})
@ApiParam({
  name: 'path',
  description: 'The secret path in the mount',
  schema: { type: 'string', maxLength: MAX_PATH_LENGTH, example: 'acme/prod/db' },
})
@Controller('v1')
export class VaultKvController {
  constructor(private readonly kv: VaultKvService) {}

  @Get(':mount/data/*')
  @ByGrant('reveal')
  @RevealThrottled()
  @Header('Cache-Control', 'no-store')
  @Audit('credential.reveal', PATH)
  @ApiOperation({ summary: 'Read a secret (a reveal, audited as credential.reveal)' })
  @ApiQuery({ name: 'version', required: false, type: Number })
  @ApiOkResponse({ description: '{data: {data, metadata}}' })
  async read(
    @Param('mount') mount: string,
    @WildcardPath() rest: string,
    @Query('version') version: string | undefined,
    @CurrentPrincipal() principal: Principal,
    @AuditCtx() context: AuditRequestContext,
    @Req() request: FastifyRequest,
  ): Promise<VaultEnvelope> {
    const data = await this.kv.read(mount, rest, versionOf(version), principal, context);
    return vaultEnvelope(String(request.id), data, { mountType: 'kv' });
  }

  @Post(':mount/data/*')
  @HttpCode(200)
  @ByGrant('write')
  @Audit('credential.secret.update', PATH)
  @ApiOperation({
    summary:
      'Write a secret: a new version, or a new kv credential; options.cas = If-Match. ' +
      'Unknown fields are ignored, as Vault does, and named in warnings. ' +
      'A soft-deleted secret: 400, undelete it first',
  })
  @ApiBody({ type: KvWriteDto })
  @ApiOkResponse({ description: '{data: {created_time, version, …}}' })
  async write(
    @Param('mount') mount: string,
    @WildcardPath() rest: string,
    @VaultBody() body: KvWriteDto,
    @CurrentPrincipal() principal: Principal,
    @AuditCtx() context: AuditRequestContext,
    @Req() request: FastifyRequest,
  ): Promise<VaultEnvelope> {
    const input = { data: body.data, cas: body.options?.cas };
    const data = await this.kv.write(mount, rest, input, principal, context);
    const warning = ignoredParametersWarning(request.body, KV_WRITE_PARAMETERS);
    return vaultEnvelope(String(request.id), data, {
      mountType: 'kv',
      warnings: warning ? [warning] : [],
    });
  }

  @Put(':mount/data/*')
  @HttpCode(200)
  @ByGrant('write')
  @Audit('credential.secret.update', PATH)
  @ApiOperation({ summary: 'The same as POST' })
  @ApiBody({ type: KvWriteDto })
  @ApiOkResponse({ description: '{data: {created_time, version, …}}' })
  async writePut(
    @Param('mount') mount: string,
    @WildcardPath() rest: string,
    @VaultBody() body: KvWriteDto,
    @CurrentPrincipal() principal: Principal,
    @AuditCtx() context: AuditRequestContext,
    @Req() request: FastifyRequest,
  ): Promise<VaultEnvelope> {
    return this.write(mount, rest, body, principal, context, request);
  }

  @Delete(':mount/data/*')
  @HttpCode(204)
  @ByGrant('delete')
  @Audit('credential.delete', PATH)
  @ApiOperation({ summary: 'Soft delete (the native one: every version, until restored)' })
  @ApiNoContentResponse()
  async remove(
    @Param('mount') mount: string,
    @WildcardPath() rest: string,
    @CurrentPrincipal() principal: Principal,
    @AuditCtx() context: AuditRequestContext,
  ): Promise<void> {
    await this.kv.softDelete(mount, rest, principal, context);
  }

  @Post(':mount/delete/*')
  @HttpCode(204)
  @ByGrant('delete')
  @Audit('credential.delete', PATH)
  @ApiOperation({
    summary: 'Delete versions: Custos soft-deletes all at once, so name every live version',
  })
  @ApiBody({ type: KvDestroyDto })
  @ApiNoContentResponse()
  async deleteVersions(
    @Param('mount') mount: string,
    @WildcardPath() rest: string,
    @VaultBody() body: KvDestroyDto,
    @CurrentPrincipal() principal: Principal,
    @AuditCtx() context: AuditRequestContext,
  ): Promise<void> {
    await this.kv.deleteVersions(mount, rest, body.versions, principal, context);
  }

  @Post(':mount/undelete/*')
  @HttpCode(204)
  @ByGrant('delete')
  @Audit('credential.restore', PATH)
  @ApiOperation({ summary: 'Undo a soft delete (the native restore: every version)' })
  @ApiBody({ type: KvDestroyDto })
  @ApiNoContentResponse()
  async undelete(
    @Param('mount') mount: string,
    @WildcardPath() rest: string,
    // Vault names the versions to undelete; Custos restores the credential as a whole.
    @VaultBody() _body: KvDestroyDto,
    @CurrentPrincipal() principal: Principal,
    @AuditCtx() context: AuditRequestContext,
  ): Promise<void> {
    await this.kv.undelete(mount, rest, principal, context);
  }

  @Get(':mount/metadata/*')
  @ByGrant('read')
  @Audit('credential.versions.list', PATH)
  @ApiOperation({
    summary:
      'Version metadata (a soft-deleted secret’s too, with deletion times); with ?list=true (or ' +
      'the LIST method) the keys of a folder (credential.list), 403 where no grant reaches inside',
  })
  @ApiQuery({ name: 'list', required: false, type: Boolean })
  @ApiOkResponse({ description: '{data: {current_version, versions, …}} or {data: {keys}}' })
  async metadata(
    @Param('mount') mount: string,
    @WildcardPath() rest: string,
    @Query('list') list: string | undefined,
    @CurrentPrincipal() principal: Principal,
    @AuditCtx() context: AuditRequestContext,
    @Req() request: FastifyRequest,
  ): Promise<VaultEnvelope> {
    if (isTrue(list)) {
      const keys = await this.kv.list(mount, rest, principal, context);
      return vaultEnvelope(String(request.id), { keys }, { mountType: 'kv' });
    }
    const data = await this.kv.metadata(mount, rest, principal);
    return vaultEnvelope(String(request.id), data, { mountType: 'kv' });
  }

  @Delete(':mount/metadata/*')
  @HttpCode(204)
  // As the native destroy route: admins only, and the service checks `delete` on the path.
  @Roles('admin')
  @Audit('credential.destroy', PATH)
  @ApiOperation({ summary: 'Every version and the metadata: the native destroy (admin)' })
  @ApiNoContentResponse()
  async destroyAll(
    @Param('mount') mount: string,
    @WildcardPath() rest: string,
    @CurrentPrincipal() principal: Principal,
    @AuditCtx() context: AuditRequestContext,
  ): Promise<void> {
    await this.kv.destroyAll(mount, rest, principal, context);
  }

  @Post(':mount/destroy/*')
  @HttpCode(204)
  @Roles('admin')
  @Audit('credential.destroy', PATH)
  @ApiOperation({
    summary: 'Destroy versions: Custos destroys all at once, so name every live version (admin)',
  })
  @ApiBody({ type: KvDestroyDto })
  @ApiNoContentResponse()
  async destroy(
    @Param('mount') mount: string,
    @WildcardPath() rest: string,
    @VaultBody() body: KvDestroyDto,
    @CurrentPrincipal() principal: Principal,
    @AuditCtx() context: AuditRequestContext,
  ): Promise<void> {
    await this.kv.destroyVersions(mount, rest, body.versions, principal, context);
  }
}

/** `?version=3`; absent or 0 is the current one, as in Vault. */
function versionOf(value: string | undefined): number | undefined {
  if (value === undefined || value === '' || value === '0') return undefined;
  if (!/^\d{1,10}$/.test(value) || Number(value) > 2_147_483_647) {
    throw new RequestValidationError([{ field: 'version', errors: ['version must be a number'] }]);
  }
  return Number(value);
}

function isTrue(value: string | undefined): boolean {
  return value !== undefined && ['', '1', 't', 'true', 'True', 'TRUE'].includes(value);
}
