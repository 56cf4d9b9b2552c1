import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
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
import { RotateRequestDto } from '../dto/rotation-request.dto';
import { RunPageQueryDto } from '../dto/rotation-run-query.dto';
import { RotateAcceptedDto, RotationRunDto, RotationRunPageDto } from '../dto/rotation-run.dto';
import { RotationRequests } from '../engine/rotation-requests.service';
import { RotationRunQuery } from '../engine/rotation-run.query';

const RESOURCE = { resourceType: 'credential', resourceIdParam: 'id' };

@ApiTags('rotation')
@ApiBearerAuth(JWT_SCHEME)
@ApiSecurity(API_KEY_SCHEME)
@ApiErrors(400, 401)
@Controller('credentials')
export class CredentialRotationsController {
  constructor(
    private readonly requests: RotationRequests,
    private readonly runs: RotationRunQuery,
  ) {}

  @Post(':id/rotate')
  @HttpCode(202)
  @ByGrant('rotate')
  @Audit('rotation.request', RESOURCE)
  @ApiOperation({
    summary: 'Rotate now; with emergency, the old value is revoked at the switch (grace 0)',
    description:
      'Opens a run and answers at once with it: poll `GET /rotations/{runId}`. A credential ' +
      'with an open run answers 409 naming it, except for an emergency, which makes the open ' +
      'run an emergency. Without a policy the run is manual: it waits for `PUT …/secret`.',
  })
  @ApiAcceptedResponse({ type: RotateAcceptedDto })
  @ApiErrors(403, 404, 409)
  async rotate(
    @Param('id', UUID_V4) id: string,
    @Body() body: RotateRequestDto,
    @CurrentPrincipal() principal: Principal,
    @AuditCtx() context: AuditRequestContext,
  ): Promise<RotateAcceptedDto> {
    const { run, opened } = await this.requests.rotate(id, body, principal, context);
    return { runId: run.id, status: run.status, opened };
  }

  @Get(':id/rotations')
  @ByGrant('read')
  @Audit('rotation.history', RESOURCE)
  @ApiOperation({ summary: "The credential's rotation runs, newest first" })
  @ApiOkResponse({ type: RotationRunPageDto })
  @ApiErrors(404)
  async history(
    @Param('id', UUID_V4) id: string,
    @Query() query: RunPageQueryDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<RotationRunPageDto> {
    const page = await this.runs.forCredential(id, query, principal);
    return { ...page, items: page.items.map((run) => RotationRunDto.from(run)) };
  }
}
