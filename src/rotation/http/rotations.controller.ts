import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
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
import { API_KEY_SCHEME, JWT_SCHEME } from '../../common/http/openapi-schemes';
import { UUID_V4 } from '../../common/http/uuid-param';
import { EmergencyRotationDto } from '../dto/rotation-request.dto';
import { RunListQueryDto } from '../dto/rotation-run-query.dto';
import { RotateAcceptedDto, RotationRunDto, RotationRunPageDto } from '../dto/rotation-run.dto';
import { EmergencyRotations } from '../engine/emergency-rotation.service';
import { RotationRequests } from '../engine/rotation-requests.service';
import { RotationRunQuery } from '../engine/rotation-run.query';
import { RotatorRegistry } from '../rotators/rotator-registry';

const RUN = { resourceType: 'rotation_run', resourceIdParam: 'runId' };

class EmergencyRunDto {
  @ApiProperty({ format: 'uuid' })
  credentialId!: string;

  @ApiProperty({ example: 'acme/prod/db' })
  path!: string;

  @ApiProperty({ format: 'uuid', nullable: true, type: String })
  runId!: string | null;

  @ApiProperty({ description: 'False when the open run was made an emergency' })
  opened!: boolean;

  @ApiProperty({ nullable: true, type: String, description: 'Why no run could be opened' })
  error!: string | null;
}

class EmergencyAnswerDto {
  @ApiProperty({ type: [EmergencyRunDto] })
  runs!: EmergencyRunDto[];
}

class RotatorDto {
  @ApiProperty({ example: 'generated' })
  kind!: string;

  @ApiProperty()
  summary!: string;

  @ApiProperty({ type: [String], example: ['password', 'api_key', 'shared_secret'] })
  types!: string[];

  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } })
  settings!: Record<string, string>;
}

@ApiTags('rotation')
@ApiBearerAuth(JWT_SCHEME)
@ApiSecurity(API_KEY_SCHEME)
@ApiErrors(400, 401)
@Controller('rotations')
export class RotationsController {
  constructor(
    private readonly requests: RotationRequests,
    private readonly emergencies: EmergencyRotations,
    private readonly runs: RotationRunQuery,
    private readonly rotators: RotatorRegistry,
  ) {}

  @Get()
  @Roles('admin', 'operator', 'auditor')
  @Audit('rotation.list')
  @ApiOperation({ summary: 'Rotation history and failures across all credentials, newest first' })
  @ApiOkResponse({ type: RotationRunPageDto })
  async list(@Query() query: RunListQueryDto): Promise<RotationRunPageDto> {
    const page = await this.runs.list(query);
    return { ...page, items: page.items.map((run) => RotationRunDto.from(run)) };
  }

  @Get('rotators')
  @ByGrant('read')
  @Audit('rotation.rotators')
  @ApiOperation({ summary: 'The rotators a policy can name, with their settings' })
  @ApiOkResponse({ type: [RotatorDto] })
  rotatorList(): RotatorDto[] {
    return this.rotators.describe().map((d) => ({ ...d, types: [...d.types] }));
  }

  @Post('emergency')
  @HttpCode(202)
  @Roles('admin')
  @Audit('rotation.emergency')
  @ApiOperation({
    summary: 'Emergency-rotate every active credential under a path (grace 0)',
    description: `At most 1000 credentials; each gets its own run (or its open run becomes an emergency).`,
  })
  @ApiAcceptedResponse({ type: EmergencyAnswerDto })
  async emergency(
    @Body() body: EmergencyRotationDto,
    @CurrentPrincipal() principal: Principal,
    @AuditCtx() context: AuditRequestContext,
  ): Promise<EmergencyAnswerDto> {
    const outcomes = await this.emergencies.rotateUnder(
      body.pathPattern,
      body.reason,
      principal,
      context,
    );
    return {
      runs: outcomes.map((o) => ({
        credentialId: o.credentialId,
        path: o.path,
        runId: o.run?.id ?? null,
        opened: o.opened,
        error: o.error,
      })),
    };
  }

  @Get(':runId')
  @ByGrant('read')
  @Audit('rotation.read', RUN)
  @ApiOkResponse({ type: RotationRunDto })
  @ApiErrors(404)
  async get(
    @Param('runId', UUID_V4) runId: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<RotationRunDto> {
    return RotationRunDto.from(await this.runs.get(runId, principal));
  }

  @Post(':runId/retry')
  @HttpCode(202)
  @ByGrant('rotate')
  @Audit('rotation.retry', RUN)
  @ApiOperation({ summary: 'Rotate again after a failed run (a new run; the failed one stays)' })
  @ApiAcceptedResponse({ type: RotateAcceptedDto })
  @ApiErrors(403, 404, 409)
  async retry(
    @Param('runId', UUID_V4) runId: string,
    @CurrentPrincipal() principal: Principal,
    @AuditCtx() context: AuditRequestContext,
  ): Promise<RotateAcceptedDto> {
    const { run, opened } = await this.requests.retry(runId, principal, context);
    return { runId: run.id, status: run.status, opened };
  }
}
