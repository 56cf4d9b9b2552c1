import { RevealThrottled } from '../../common/http/reveal-throttle';
import {
  Body,
  Controller,
  Delete,
  Get,
  Header,
  Headers,
  HttpCode,
  Param,
  Patch,
  Post,
  Put,
  Query,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiExtraModels,
  ApiHeader,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiSecurity,
  ApiTags,
} from '@nestjs/swagger';
import { AuditRequestContext } from '../../audit/audit-context';
import { Audit } from '../../audit/http/audit.decorator';
import { AuditCtx } from '../../audit/http/audit-context.decorator';
import { ByGrant, Roles } from '../../common/auth/auth.decorators';
import { CurrentPrincipal } from '../../common/auth/current-principal.decorator';
import type { Principal } from '../../common/auth/principal';
import { ApiErrors } from '../../common/errors/error-response.dto';
import { UUID_V4 } from '../../common/http/uuid-param';
import { NO_QUERY_PARAMETERS } from '../../common/validation/no-query-parameters';
import { API_KEY_SCHEME, JWT_SCHEME } from '../../common/http/openapi-schemes';
import { CredentialLifecycleService } from '../credential-lifecycle.service';
import { CredentialQueryService } from '../credential-query.service';
import { CredentialsService } from '../credentials.service';
import { CredentialListQueryDto } from '../dto/credential-query.dto';
import { CredentialPageDto, CredentialResponseDto } from '../dto/credential-response.dto';
import {
  CredentialCreateDto,
  CredentialUpdateDto,
  SecretUpdateDto,
} from '../dto/credential-write.dto';
import { RevealRequestDto, RevealResponseDto } from '../dto/reveal.dto';
import { SECRET_SHAPES } from '../dto/secret-shapes.dto';
import { VersionListDto } from '../dto/version.dto';
import { RevealService } from '../reveal.service';
import { parseIfMatch, SecretVersionsService } from '../secret-versions.service';
import { toVersionDto } from './version-mapper';

/** What parseIfMatch takes: a version, quoted or weak (`W/"3"`), or `*` for any. */
const IF_MATCH_SCHEMA = {
  type: 'string',
  pattern: '^(\\d{1,10}|(W/)?"\\d{1,10}"|\\*)$',
  maxLength: 14,
};

const RESOURCE = { resourceType: 'credential', resourceIdParam: 'id' };

@ApiTags('credentials')
@ApiBearerAuth(JWT_SCHEME)
@ApiSecurity(API_KEY_SCHEME)
@ApiExtraModels(...SECRET_SHAPES)
@ApiErrors(400, 401)
@Controller('credentials')
export class CredentialsController {
  constructor(
    private readonly credentials: CredentialsService,
    private readonly queries: CredentialQueryService,
    private readonly versions: SecretVersionsService,
    private readonly lifecycle: CredentialLifecycleService,
    private readonly reveals: RevealService,
  ) {}

  @Post()
  @ByGrant('write')
  @Audit('credential.create', { resourceType: 'credential' })
  @ApiOperation({ summary: 'Store a credential: metadata plus version 1 of its secret' })
  @ApiCreatedResponse({ type: CredentialResponseDto })
  @ApiErrors(409)
  async create(
    @Body() body: CredentialCreateDto,
    @CurrentPrincipal() principal: Principal,
    @AuditCtx() context: AuditRequestContext,
  ): Promise<CredentialResponseDto> {
    return CredentialResponseDto.from(await this.credentials.create(body, principal, context));
  }

  @Get()
  @ByGrant('read')
  @Audit('credential.list', { resourceType: 'credential' })
  @ApiOperation({ summary: 'List the credentials you may read, by path' })
  @ApiOkResponse({ type: CredentialPageDto })
  async list(
    @Query() query: CredentialListQueryDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<CredentialPageDto> {
    const page = await this.queries.list(query, principal);
    return { ...page, items: page.items.map((c) => CredentialResponseDto.from(c)) };
  }

  @Get(':id')
  @ByGrant('read')
  @Audit('credential.read', RESOURCE)
  @ApiOkResponse({ type: CredentialResponseDto })
  @ApiErrors(404)
  async get(
    @Param('id', UUID_V4) id: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<CredentialResponseDto> {
    return CredentialResponseDto.from(await this.credentials.get(id, principal));
  }

  @Patch(':id')
  @ByGrant('write')
  @Audit('credential.update', RESOURCE)
  @ApiOperation({
    summary: 'Change metadata (null clears a field); the secret is changed with PUT …/secret',
  })
  @ApiOkResponse({ type: CredentialResponseDto })
  @ApiErrors(404, 409)
  async update(
    @Param('id', UUID_V4) id: string,
    @Body() body: CredentialUpdateDto,
    @CurrentPrincipal() principal: Principal,
    @AuditCtx() context: AuditRequestContext,
  ): Promise<CredentialResponseDto> {
    return CredentialResponseDto.from(await this.credentials.update(id, body, principal, context));
  }

  @Delete(':id')
  @HttpCode(204)
  @ByGrant('delete')
  @Audit('credential.delete', RESOURCE)
  @ApiOperation({ summary: 'Soft delete: hidden and unrevealable until restored or destroyed' })
  @ApiNoContentResponse()
  @ApiErrors(404)
  async remove(
    @Param('id', UUID_V4) id: string,
    @CurrentPrincipal() principal: Principal,
    @AuditCtx() context: AuditRequestContext,
  ): Promise<void> {
    await this.lifecycle.softDelete(id, principal, context);
  }

  @Put(':id/secret')
  @ByGrant('write')
  @Audit('credential.secret.update', RESOURCE)
  @ApiOperation({
    summary: 'Store a new version of the secret; the old one stays revealable for the grace period',
  })
  @ApiHeader({
    name: 'If-Match',
    required: false,
    description: 'The currentVersion you read; 412 if the secret changed since',
    schema: IF_MATCH_SCHEMA,
  })
  @ApiOkResponse({ type: CredentialResponseDto })
  @ApiErrors(404, 412)
  async replaceSecret(
    @Param('id', UUID_V4) id: string,
    @Body() body: SecretUpdateDto,
    @Headers('if-match') ifMatch: string | undefined,
    @CurrentPrincipal() principal: Principal,
    @AuditCtx() context: AuditRequestContext,
  ): Promise<CredentialResponseDto> {
    const expected = parseIfMatch(ifMatch);
    return CredentialResponseDto.from(
      await this.versions.replaceSecret(id, body.secret, expected, principal, context),
    );
  }

  @Get(':id/versions')
  @ByGrant('read')
  @Audit('credential.versions.list', RESOURCE)
  @ApiOperation({ summary: 'Version history: states and dates, never values' })
  @ApiOkResponse({ type: VersionListDto })
  @ApiErrors(404)
  async listVersions(
    @Param('id', UUID_V4) id: string,
    @Query(NO_QUERY_PARAMETERS) _query: undefined,
    @CurrentPrincipal() principal: Principal,
  ): Promise<VersionListDto> {
    const versions = await this.versions.list(id, principal);
    return { items: versions.map(toVersionDto), nextCursor: null };
  }

  @Post(':id/reveal')
  @HttpCode(200)
  @ByGrant('reveal')
  @RevealThrottled()
  // Plaintext: no browser, proxy or client cache may keep it.
  @Header('Cache-Control', 'no-store')
  @Audit('credential.reveal', RESOURCE)
  @ApiOperation({
    summary: 'The plaintext secret of the current (or a named, still valid) version; audited',
  })
  @ApiOkResponse({ type: RevealResponseDto })
  @ApiErrors(404, 409)
  async reveal(
    @Param('id', UUID_V4) id: string,
    @Body() body: RevealRequestDto,
    @CurrentPrincipal() principal: Principal,
    @AuditCtx() context: AuditRequestContext,
  ): Promise<RevealResponseDto> {
    return this.reveals.revealById(id, body, principal, context);
  }

  @Post(':id/restore')
  @HttpCode(200)
  @ByGrant('delete')
  @Audit('credential.restore', RESOURCE)
  @ApiOperation({ summary: 'Undo a soft delete' })
  @ApiOkResponse({ type: CredentialResponseDto })
  @ApiErrors(404, 409)
  async restore(
    @Param('id', UUID_V4) id: string,
    @CurrentPrincipal() principal: Principal,
    @AuditCtx() context: AuditRequestContext,
  ): Promise<CredentialResponseDto> {
    return CredentialResponseDto.from(await this.lifecycle.restore(id, principal, context));
  }

  @Post(':id/destroy')
  @HttpCode(204)
  @Roles('admin')
  @Audit('credential.destroy', RESOURCE)
  @ApiOperation({ summary: 'Crypto-shred every version: irreversible' })
  @ApiNoContentResponse()
  @ApiErrors(404)
  async destroy(
    @Param('id', UUID_V4) id: string,
    @CurrentPrincipal() principal: Principal,
    @AuditCtx() context: AuditRequestContext,
  ): Promise<void> {
    await this.lifecycle.destroy(id, principal, context);
  }
}
