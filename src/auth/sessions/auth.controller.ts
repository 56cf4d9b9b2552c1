import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { AuditRequestContext } from '../../audit/audit-context';
import { Audit } from '../../audit/http/audit.decorator';
import { AuditCtx } from '../../audit/http/audit-context.decorator';
import { ApiErrors } from '../../common/errors/error-response.dto';
import { JWT_SCHEME } from '../../common/http/openapi-schemes';
import { LoginDto, PasswordChangeDto, RefreshDto, TokenResponseDto } from '../dto/auth.dto';
import { UserResponseDto } from '../dto/user.dto';
import {
  AllowPendingPasswordChange,
  LoginThrottled,
  Public,
  Roles,
} from '../../common/auth/auth.decorators';
import { ROLES } from '../../common/auth/access-vocabulary';
import { CurrentPrincipal } from '../../common/auth/current-principal.decorator';
import type { Principal } from '../../common/auth/principal';
import { UsersService } from '../users/users.service';
import { SessionService } from './session.service';

/** Sessions belong to people: every user role, no service account. */
const PEOPLE = [...ROLES];

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(
    private readonly sessions: SessionService,
    private readonly users: UsersService,
  ) {}

  @Post('login')
  @Public()
  @HttpCode(200)
  @LoginThrottled()
  @Audit('auth.login')
  @ApiOperation({ summary: 'Log in with e-mail and password; one generic error for every failure' })
  @ApiOkResponse({ type: TokenResponseDto })
  @ApiErrors(400, 401)
  login(
    @Body() body: LoginDto,
    @AuditCtx() context: AuditRequestContext,
  ): Promise<TokenResponseDto> {
    return this.sessions.login(body.email, body.password, body.totp, context);
  }

  @Post('refresh')
  @Public()
  @HttpCode(200)
  @LoginThrottled()
  @Audit('auth.refresh')
  @ApiOperation({
    summary: 'Trade a refresh token for new tokens; reusing a spent one revokes the whole session',
  })
  @ApiOkResponse({ type: TokenResponseDto })
  @ApiErrors(400, 401)
  refresh(
    @Body() body: RefreshDto,
    @AuditCtx() context: AuditRequestContext,
  ): Promise<TokenResponseDto> {
    return this.sessions.refresh(body.refreshToken, context);
  }

  @Post('logout')
  @Roles(...PEOPLE)
  @HttpCode(204)
  @AllowPendingPasswordChange()
  @Audit('auth.logout')
  @ApiBearerAuth(JWT_SCHEME)
  @ApiOperation({ summary: 'End the session the refresh token belongs to' })
  @ApiNoContentResponse({ description: 'The session has ended' })
  @ApiErrors(400, 401)
  async logout(
    @Body() body: RefreshDto,
    @CurrentPrincipal() principal: Principal,
    @AuditCtx() context: AuditRequestContext,
  ): Promise<void> {
    await this.sessions.logout(principal.id, body.refreshToken, context);
  }

  @Get('me')
  @Roles(...PEOPLE)
  @AllowPendingPasswordChange()
  @Audit('auth.me')
  @ApiBearerAuth(JWT_SCHEME)
  @ApiOkResponse({ type: UserResponseDto })
  @ApiErrors(401)
  async me(@CurrentPrincipal() principal: Principal): Promise<UserResponseDto> {
    return UserResponseDto.from(await this.users.get(principal.id));
  }

  @Post('password')
  @Roles(...PEOPLE)
  @HttpCode(204)
  @AllowPendingPasswordChange()
  @Audit('auth.password.change')
  @ApiBearerAuth(JWT_SCHEME)
  @ApiOperation({ summary: 'Change your password; every session of yours ends, log in again' })
  @ApiNoContentResponse({ description: 'Changed; every session has ended: log in again' })
  @ApiErrors(400, 401)
  async changePassword(
    @Body() body: PasswordChangeDto,
    @CurrentPrincipal() principal: Principal,
    @AuditCtx() context: AuditRequestContext,
  ): Promise<void> {
    await this.sessions.changePassword(
      principal.id,
      body.currentPassword,
      body.newPassword,
      context,
    );
  }
}
