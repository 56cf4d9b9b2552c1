import { Body, Controller, Get, Header, Param, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { AuditRequestContext } from '../../audit/audit-context';
import { Audit } from '../../audit/http/audit.decorator';
import { AuditCtx } from '../../audit/http/audit-context.decorator';
import { Roles } from '../../common/auth/auth.decorators';
import { CurrentPrincipal } from '../../common/auth/current-principal.decorator';
import type { Principal } from '../../common/auth/principal';
import { ApiErrors } from '../../common/errors/error-response.dto';
import { API_KEY_SCHEME, JWT_SCHEME } from '../../common/http/openapi-schemes';
import { UUID_V4 } from '../../common/http/uuid-param';
import { CredentialDecoyDto } from './credential-decoy.dto';
import { CredentialDecoyService } from './credential-decoy.service';

/**
 * The decoy flag lives on a route of its own, for admins only: every other answer about a
 * credential is the same for a decoy, so that an intruder cannot tell one.
 */
@ApiTags('credentials')
@ApiBearerAuth(JWT_SCHEME)
@ApiSecurity(API_KEY_SCHEME)
@ApiErrors(400, 401, 403, 404)
@Roles('admin')
@Controller('credentials/:id/decoy')
export class CredentialDecoyController {
  constructor(private readonly decoys: CredentialDecoyService) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  @Audit('credential.decoy.read', { resourceType: 'credential', resourceIdParam: 'id' })
  @ApiOperation({ summary: 'Whether a credential is a decoy (admins)' })
  @ApiOkResponse({ type: CredentialDecoyDto })
  async get(
    @Param('id', UUID_V4) id: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<CredentialDecoyDto> {
    return { decoy: await this.decoys.isDecoy(id, principal) };
  }

  @Put()
  @Audit('credential.decoy.set', { resourceType: 'credential', resourceIdParam: 'id' })
  @ApiOperation({
    summary:
      'Mark or unmark a decoy (admins): any reveal of it, or its value in a leak scan, opens a decoy_access incident',
  })
  @ApiOkResponse({ type: CredentialDecoyDto })
  async set(
    @Param('id', UUID_V4) id: string,
    @Body() body: CredentialDecoyDto,
    @CurrentPrincipal() principal: Principal,
    @AuditCtx() context: AuditRequestContext,
  ): Promise<CredentialDecoyDto> {
    return { decoy: await this.decoys.set(id, body.decoy, principal, context) };
  }
}
