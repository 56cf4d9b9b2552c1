import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
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
import {
  UserCreateDto,
  UserListQueryDto,
  UserPageDto,
  UserPasswordResetDto,
  UserResponseDto,
  UserUpdateDto,
} from '../dto/user.dto';
import { Roles } from '../../common/auth/auth.decorators';
import { UsersService } from './users.service';

const RESOURCE = { resourceType: 'user', resourceIdParam: 'id' };

@ApiTags('users')
@ApiBearerAuth(JWT_SCHEME)
@ApiErrors(400, 401)
@Roles('admin')
@Controller('users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Post()
  @Audit('user.create', { resourceType: 'user' })
  @ApiCreatedResponse({ type: UserResponseDto })
  @ApiErrors(409)
  async create(
    @Body() body: UserCreateDto,
    @AuditCtx() context: AuditRequestContext,
  ): Promise<UserResponseDto> {
    return UserResponseDto.from(await this.users.create(body, context));
  }

  @Get()
  @Audit('user.list', { resourceType: 'user' })
  @ApiOkResponse({ type: UserPageDto })
  async list(@Query() query: UserListQueryDto): Promise<UserPageDto> {
    const page = await this.users.list(query.limit, query.cursor);
    return { items: page.items.map((u) => UserResponseDto.from(u)), nextCursor: page.nextCursor };
  }

  @Get(':id')
  @Audit('user.read', RESOURCE)
  @ApiOkResponse({ type: UserResponseDto })
  @ApiErrors(404)
  async get(@Param('id', UUID_V4) id: string): Promise<UserResponseDto> {
    return UserResponseDto.from(await this.users.get(id));
  }

  @Patch(':id')
  @Audit('user.update', RESOURCE)
  @ApiOkResponse({ type: UserResponseDto })
  @ApiErrors(404, 409)
  async update(
    @Param('id', UUID_V4) id: string,
    @Body() body: UserUpdateDto,
    @AuditCtx() context: AuditRequestContext,
  ): Promise<UserResponseDto> {
    return UserResponseDto.from(await this.users.update(id, body, context));
  }

  @Post(':id/password')
  @HttpCode(204)
  @Audit('user.password.reset', RESOURCE)
  @ApiNoContentResponse({ description: 'Reset; the user must change it at the next login' })
  @ApiErrors(404)
  async resetPassword(
    @Param('id', UUID_V4) id: string,
    @Body() body: UserPasswordResetDto,
    @AuditCtx() context: AuditRequestContext,
  ): Promise<void> {
    await this.users.resetPassword(id, body.password, context);
  }

  @Delete(':id')
  @HttpCode(204)
  @Audit('user.delete', RESOURCE)
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiErrors(404, 409)
  async remove(
    @Param('id', UUID_V4) id: string,
    @AuditCtx() context: AuditRequestContext,
  ): Promise<void> {
    await this.users.remove(id, context);
  }
}
