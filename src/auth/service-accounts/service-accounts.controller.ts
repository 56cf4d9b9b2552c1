import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { AuditRequestContext } from '../../audit/audit-context';
import { Audit } from '../../audit/http/audit.decorator';
import { AuditCtx } from '../../audit/http/audit-context.decorator';
import { ApiErrors } from '../../common/errors/error-response.dto';
import { UUID_V4 } from '../../common/http/uuid-param';
import { NO_QUERY_PARAMETERS } from '../../common/validation/no-query-parameters';
import { JWT_SCHEME } from '../../common/http/openapi-schemes';
import { Roles } from '../../common/auth/auth.decorators';
import {
  ApiKeyCreateDto,
  ApiKeyCreatedDto,
  ApiKeyListDto,
  ApiKeyResponseDto,
  ServiceAccountCreateDto,
  ServiceAccountListQueryDto,
  ServiceAccountPageDto,
  ServiceAccountResponseDto,
  ServiceAccountUpdateDto,
} from './dto/service-account.dto';
import { ServiceAccountsService } from './service-accounts.service';

const RESOURCE = { resourceType: 'service_account', resourceIdParam: 'id' };

@ApiTags('service-accounts')
@ApiBearerAuth(JWT_SCHEME)
@ApiErrors(400, 401, 404)
@Roles('admin')
@Controller('service-accounts')
export class ServiceAccountsController {
  constructor(private readonly accounts: ServiceAccountsService) {}

  @Post()
  @Audit('service_account.create', { resourceType: 'service_account' })
  @ApiCreatedResponse({ type: ServiceAccountResponseDto })
  @ApiErrors(409)
  async create(
    @Body() body: ServiceAccountCreateDto,
    @AuditCtx() context: AuditRequestContext,
  ): Promise<ServiceAccountResponseDto> {
    return ServiceAccountResponseDto.from(await this.accounts.create(body, context));
  }

  @Get()
  @Audit('service_account.list', { resourceType: 'service_account' })
  @ApiOkResponse({ type: ServiceAccountPageDto })
  async list(@Query() query: ServiceAccountListQueryDto): Promise<ServiceAccountPageDto> {
    const page = await this.accounts.list(query.limit, query.cursor);
    return {
      items: page.items.map((a) => ServiceAccountResponseDto.from(a)),
      nextCursor: page.nextCursor,
    };
  }

  @Get(':id')
  @Audit('service_account.read', RESOURCE)
  @ApiOkResponse({ type: ServiceAccountResponseDto })
  async get(@Param('id', UUID_V4) id: string): Promise<ServiceAccountResponseDto> {
    return ServiceAccountResponseDto.from(await this.accounts.get(id));
  }

  @Patch(':id')
  @Audit('service_account.update', RESOURCE)
  @ApiOkResponse({ type: ServiceAccountResponseDto })
  async update(
    @Param('id', UUID_V4) id: string,
    @Body() body: ServiceAccountUpdateDto,
    @AuditCtx() context: AuditRequestContext,
  ): Promise<ServiceAccountResponseDto> {
    return ServiceAccountResponseDto.from(await this.accounts.update(id, body, context));
  }

  @Delete(':id')
  @HttpCode(204)
  @Audit('service_account.delete', RESOURCE)
  async remove(
    @Param('id', UUID_V4) id: string,
    @AuditCtx() context: AuditRequestContext,
  ): Promise<void> {
    await this.accounts.remove(id, context);
  }

  @Post(':id/keys')
  @Audit('api_key.create', RESOURCE)
  @ApiCreatedResponse({
    type: ApiKeyCreatedDto,
    description: 'The key is in `apiKey`, shown only this once',
  })
  async createKey(
    @Param('id', UUID_V4) id: string,
    @Body() body: ApiKeyCreateDto,
    @AuditCtx() context: AuditRequestContext,
  ): Promise<ApiKeyCreatedDto> {
    const created = await this.accounts.createKey(id, body, context);
    return { ...ApiKeyResponseDto.from(created.key), apiKey: created.apiKey };
  }

  @Get(':id/keys')
  @Audit('api_key.list', RESOURCE)
  @ApiOkResponse({ type: ApiKeyListDto })
  async listKeys(
    @Param('id', UUID_V4) id: string,
    @Query(NO_QUERY_PARAMETERS) _query: undefined,
  ): Promise<ApiKeyListDto> {
    return { items: (await this.accounts.listKeys(id)).map((k) => ApiKeyResponseDto.from(k)) };
  }

  @Delete(':id/keys/:keyId')
  @HttpCode(204)
  @Audit('api_key.revoke', RESOURCE)
  async revokeKey(
    @Param('id', UUID_V4) id: string,
    @Param('keyId') keyId: string,
    @AuditCtx() context: AuditRequestContext,
  ): Promise<void> {
    await this.accounts.revokeKey(id, keyId, context);
  }
}
