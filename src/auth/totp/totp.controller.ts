import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { AuditRequestContext } from '../../audit/audit-context';
import { Audit } from '../../audit/http/audit.decorator';
import { AuditCtx } from '../../audit/http/audit-context.decorator';
import { ApiErrors } from '../../common/errors/error-response.dto';
import { JWT_SCHEME } from '../../common/http/openapi-schemes';
import { AllowPendingPasswordChange, Roles } from '../../common/auth/auth.decorators';
import { CurrentPrincipal } from '../../common/auth/current-principal.decorator';
import { MAX_PASSWORD_LENGTH } from '../passwords/password-policy';
import type { Principal } from '../../common/auth/principal';
import { ROLES } from '../../common/auth/access-vocabulary';
import { TotpService } from './totp.service';

class TotpCodeDto {
  @ApiProperty({ example: '123456' })
  @Matches(/^\d{6}$/, { message: 'code must be 6 digits' })
  code!: string;
}

class TotpDisableDto extends TotpCodeDto {
  @ApiProperty({ format: 'password' })
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_PASSWORD_LENGTH)
  password!: string;
}

class TotpEnrolmentDto {
  @ApiProperty({ description: 'Base32 secret for the authenticator app; shown once' })
  secret!: string;
  @ApiProperty({ description: 'otpauth:// URI to render as a QR code' }) otpauthUri!: string;
}

@ApiTags('auth')
@ApiBearerAuth(JWT_SCHEME)
@ApiErrors(400, 401)
@Roles(...ROLES)
@Controller('auth/mfa/totp')
export class TotpController {
  constructor(private readonly totp: TotpService) {}

  @Post('enrol')
  @HttpCode(200)
  @AllowPendingPasswordChange()
  @Audit('auth.mfa.enrol')
  @ApiOperation({ summary: 'Start TOTP enrolment: returns the secret once; confirm with a code' })
  @ApiOkResponse({ type: TotpEnrolmentDto })
  enrol(
    @CurrentPrincipal() principal: Principal,
    @AuditCtx() context: AuditRequestContext,
  ): Promise<TotpEnrolmentDto> {
    return this.totp.enrol(principal.id, context);
  }

  @Post('confirm')
  @HttpCode(204)
  @AllowPendingPasswordChange()
  @Audit('auth.mfa.confirm')
  @ApiOperation({ summary: 'Confirm enrolment with a first code; login then needs a code' })
  async confirm(
    @Body() body: TotpCodeDto,
    @CurrentPrincipal() principal: Principal,
    @AuditCtx() context: AuditRequestContext,
  ): Promise<void> {
    await this.totp.confirm(principal.id, body.code, context);
  }

  @Post('disable')
  @HttpCode(204)
  @Audit('auth.mfa.disable')
  @ApiOperation({ summary: 'Turn TOTP off (password and a current code)' })
  async disable(
    @Body() body: TotpDisableDto,
    @CurrentPrincipal() principal: Principal,
    @AuditCtx() context: AuditRequestContext,
  ): Promise<void> {
    await this.totp.disable(principal.id, body.password, body.code, context);
  }
}
