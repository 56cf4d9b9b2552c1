import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiNoContentResponse,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiTags,
} from '@nestjs/swagger';
import { AuditRequestContext } from '../../audit/audit-context';
import { Audit } from '../../audit/http/audit.decorator';
import { AuditCtx } from '../../audit/http/audit-context.decorator';
import { ApiErrors } from '../../common/errors/error-response.dto';
import { UUID_V4 } from '../../common/http/uuid-param';
import { JWT_SCHEME } from '../../common/http/openapi-schemes';
import { Roles } from '../../common/auth/auth.decorators';
import { CurrentPrincipal } from '../../common/auth/current-principal.decorator';
import type { Principal } from '../../common/auth/principal';
import { GrantCreateDto, GrantListQueryDto, GrantPageDto, GrantResponseDto } from './dto/grant.dto';
import { GrantsService } from './grants.service';

const RESOURCE = { resourceType: 'grant', resourceIdParam: 'id' };

@ApiTags('grants')
@ApiBearerAuth(JWT_SCHEME)
@ApiErrors(400, 401)
@Roles('admin')
@Controller('grants')
export class GrantsController {
  constructor(private readonly grants: GrantsService) {}

  @Post()
  @Audit('grant.create', { resourceType: 'grant' })
  @ApiCreatedResponse({ type: GrantResponseDto })
  @ApiErrors(404, 409)
  async create(
    @Body() body: GrantCreateDto,
    @CurrentPrincipal() principal: Principal,
    @AuditCtx() context: AuditRequestContext,
  ): Promise<GrantResponseDto> {
    return GrantResponseDto.from(await this.grants.create(body, principal, context));
  }

  @Get()
  @Audit('grant.list', { resourceType: 'grant' })
  @ApiOkResponse({ type: GrantPageDto })
  async list(@Query() query: GrantListQueryDto): Promise<GrantPageDto> {
    const items = await this.grants.list(query);
    return { items: items.map((grant) => GrantResponseDto.from(grant)), nextCursor: null };
  }

  @Get(':id')
  @Audit('grant.read', RESOURCE)
  @ApiOkResponse({ type: GrantResponseDto })
  @ApiErrors(404)
  async get(@Param('id', UUID_V4) id: string): Promise<GrantResponseDto> {
    return GrantResponseDto.from(await this.grants.get(id));
  }

  @Delete(':id')
  @HttpCode(204)
  @Audit('grant.delete', RESOURCE)
  @ApiNoContentResponse({ description: 'Revoked; takes effect at once' })
  @ApiErrors(404)
  async remove(
    @Param('id', UUID_V4) id: string,
    @AuditCtx() context: AuditRequestContext,
  ): Promise<void> {
    await this.grants.remove(id, context);
  }
}
