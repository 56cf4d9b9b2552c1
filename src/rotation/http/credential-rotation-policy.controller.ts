import { Body, Controller, Delete, Get, HttpCode, Param, Put } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiSecurity,
  ApiTags,
} from '@nestjs/swagger';
import { AuditRequestContext } from '../../audit/audit-context';
import { Audit } from '../../audit/http/audit.decorator';
import { AuditCtx } from '../../audit/http/audit-context.decorator';
import { ByGrant } from '../../common/auth/auth.decorators';
import { CurrentPrincipal } from '../../common/auth/current-principal.decorator';
import type { Principal } from '../../common/auth/principal';
import { ApiErrors } from '../../common/errors/error-response.dto';
import { API_KEY_SCHEME, JWT_SCHEME } from '../../common/http/openapi-schemes';
import { UUID_V4 } from '../../common/http/uuid-param';
import { CredentialPolicyService } from '../policy/credential-policy.service';
import { CredentialRotationPolicyResponseDto } from '../policy/dto/rotation-policy-response.dto';
import { RotationPolicyWriteDto } from '../policy/dto/rotation-policy-write.dto';

const RESOURCE = { resourceType: 'credential', resourceIdParam: 'id' };

@ApiTags('rotation')
@ApiBearerAuth(JWT_SCHEME)
@ApiSecurity(API_KEY_SCHEME)
@ApiErrors(400, 401, 404)
@Controller('credentials')
export class CredentialRotationPolicyController {
  constructor(private readonly policies: CredentialPolicyService) {}

  @Get(':id/rotation')
  @ByGrant('read')
  @Audit('rotation.policy.read', RESOURCE)
  @ApiOperation({
    summary:
      "The rotation policy that applies to the credential (its own, else its path pattern's), with its next rotation; 404 when none applies",
  })
  @ApiOkResponse({ type: CredentialRotationPolicyResponseDto })
  async get(
    @Param('id', UUID_V4) id: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<CredentialRotationPolicyResponseDto> {
    return CredentialRotationPolicyResponseDto.from(await this.policies.get(id, principal));
  }

  @Put(':id/rotation')
  @ByGrant('rotate')
  @Audit('rotation.policy.update', RESOURCE)
  @ApiOperation({
    summary:
      'Set the credential’s own rotation policy (replaces any); reschedules it from now and never rotates it by itself',
  })
  @ApiOkResponse({ type: CredentialRotationPolicyResponseDto })
  async put(
    @Param('id', UUID_V4) id: string,
    @Body() body: RotationPolicyWriteDto,
    @CurrentPrincipal() principal: Principal,
    @AuditCtx() context: AuditRequestContext,
  ): Promise<CredentialRotationPolicyResponseDto> {
    return CredentialRotationPolicyResponseDto.from(
      await this.policies.put(id, body, principal, context),
    );
  }

  @Delete(':id/rotation')
  @HttpCode(204)
  @ByGrant('rotate')
  @Audit('rotation.policy.delete', RESOURCE)
  @ApiOperation({
    summary:
      'Delete the credential’s own rotation policy; a path-pattern policy for its path then applies, if any',
  })
  @ApiNoContentResponse()
  async remove(
    @Param('id', UUID_V4) id: string,
    @CurrentPrincipal() principal: Principal,
    @AuditCtx() context: AuditRequestContext,
  ): Promise<void> {
    await this.policies.remove(id, principal, context);
  }
}
