import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Param,
  Patch,
  Post,
  Query,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { AuditRequestContext } from '../../audit/audit-context';
import { Audit } from '../../audit/http/audit.decorator';
import { AuditCtx } from '../../audit/http/audit-context.decorator';
import { INCIDENT_READERS } from '../../common/auth/access-vocabulary';
import { Roles } from '../../common/auth/auth.decorators';
import { CurrentPrincipal } from '../../common/auth/current-principal.decorator';
import type { Principal } from '../../common/auth/principal';
import { ApiErrors } from '../../common/errors/error-response.dto';
import { JWT_SCHEME } from '../../common/http/openapi-schemes';
import { UUID_V4 } from '../../common/http/uuid-param';
import { IncidentContainment } from '../containment/incident-containment';
import {
  IncidentCreateDto,
  IncidentListQueryDto,
  IncidentPageDto,
  IncidentResponseDto,
  IncidentUpdateDto,
} from '../dto/incident.dto';
import { IncidentDetailDto } from '../dto/incident-detail.dto';
import {
  IncidentCommentDto,
  IncidentContainDto,
  IncidentCredentialsDto,
  IncidentPrincipalsDto,
  IncidentScopeDto,
  IncidentTransitionDto,
  TimelineEntryDto,
  TimelinePageDto,
  TimelineQueryDto,
} from '../dto/incident-workflow.dto';
import { IncidentsService } from '../incidents.service';

const RESOURCE = { resourceType: 'incident', resourceIdParam: 'id' };

/** Operators and admins write; auditors read; viewers and services are refused (issue 12). */
@ApiTags('incidents')
@ApiBearerAuth(JWT_SCHEME)
@ApiErrors(400, 401, 404)
@Roles('admin', 'operator')
@Controller('incidents')
export class IncidentsController {
  constructor(
    private readonly incidents: IncidentsService,
    private readonly containment: IncidentContainment,
  ) {}

  @Post()
  @Audit('incident.opened', { resourceType: 'incident' })
  @ApiOperation({ summary: 'Open an incident (status investigating)' })
  @ApiCreatedResponse({ type: IncidentResponseDto })
  async create(
    @Body() body: IncidentCreateDto,
    @CurrentPrincipal() principal: Principal,
    @AuditCtx() context: AuditRequestContext,
  ): Promise<IncidentResponseDto> {
    return IncidentResponseDto.from(await this.incidents.create(body, principal, context));
  }

  @Get()
  @Roles(...INCIDENT_READERS)
  @Audit('incident.list', { resourceType: 'incident' })
  @ApiOperation({ summary: 'Incidents, newest detection first, filtered' })
  @ApiOkResponse({ type: IncidentPageDto })
  async list(@Query() query: IncidentListQueryDto): Promise<IncidentPageDto> {
    const page = await this.incidents.list(query);
    return {
      items: page.items.map((i) => IncidentResponseDto.from(i)),
      nextCursor: page.nextCursor,
    };
  }

  @Get(':id')
  @Roles(...INCIDENT_READERS)
  @Audit('incident.read', RESOURCE)
  @ApiOperation({ summary: 'One incident, with the open actions containment left for a person' })
  @ApiOkResponse({ type: IncidentDetailDto })
  async get(@Param('id', UUID_V4) id: string): Promise<IncidentDetailDto> {
    const { incident, openActions } = await this.incidents.get(id);
    return IncidentDetailDto.fromDetail(incident, openActions);
  }

  @Patch(':id')
  @Audit('incident.update', RESOURCE)
  @ApiOperation({ summary: 'Change fields (not the status: use transition)' })
  @ApiHeader({
    name: 'If-Match',
    required: false,
    description: 'rowVersion; 412 if it changed',
    schema: { type: 'string', pattern: '^"?\\d{1,9}"?$', maxLength: 11 },
  })
  @ApiErrors(412)
  @ApiOkResponse({ type: IncidentResponseDto })
  async update(
    @Param('id', UUID_V4) id: string,
    @Body() body: IncidentUpdateDto,
    @Headers('if-match') ifMatch: string | undefined,
    @AuditCtx() context: AuditRequestContext,
  ): Promise<IncidentResponseDto> {
    const expected =
      ifMatch && /^"?\d{1,9}"?$/.test(ifMatch) ? Number(ifMatch.replace(/"/g, '')) : undefined;
    return IncidentResponseDto.from(await this.incidents.update(id, body, expected, context));
  }

  @Post(':id/transition')
  @HttpCode(200)
  @Audit('incident.transitioned', RESOURCE)
  @ApiOperation({
    summary: 'Move through the workflow; an illegal move is a 409 and changes nothing',
  })
  @ApiErrors(409)
  @ApiOkResponse({ type: IncidentResponseDto })
  async transition(
    @Param('id', UUID_V4) id: string,
    @Body() body: IncidentTransitionDto,
    @AuditCtx() context: AuditRequestContext,
  ): Promise<IncidentResponseDto> {
    return IncidentResponseDto.from(
      await this.incidents.transition(id, body.to, body.note, context),
    );
  }

  @Post(':id/comments')
  @Audit('incident.comment', RESOURCE)
  @ApiCreatedResponse({ type: TimelineEntryDto })
  async comment(
    @Param('id', UUID_V4) id: string,
    @Body() body: IncidentCommentDto,
    @AuditCtx() context: AuditRequestContext,
  ): Promise<TimelineEntryDto> {
    return TimelineEntryDto.from(await this.incidents.comment(id, body.text, context));
  }

  @Get(':id/timeline')
  @Roles(...INCIDENT_READERS)
  @Audit('incident.timeline', RESOURCE)
  @ApiOperation({
    summary: 'The timeline in order; each entry names its audit event',
    description:
      'Each entry is checked against its audit event; changed, inserted and deleted entries are ' +
      'reported in integrity (and verified: false), never served as if they were true.',
  })
  @ApiOkResponse({ type: TimelinePageDto })
  async timeline(
    @Param('id', UUID_V4) id: string,
    @Query() query: TimelineQueryDto,
  ): Promise<TimelinePageDto> {
    const page = await this.incidents.timeline(id, query);
    return {
      items: page.items.map(({ entry, verified }) => TimelineEntryDto.from(entry, verified)),
      nextCursor: page.nextCursor,
      integrity: page.integrity,
    };
  }

  @Get(':id/scope')
  @Roles(...INCIDENT_READERS)
  @Audit('incident.scope.read', RESOURCE)
  @ApiOperation({ summary: 'Linked credentials and principals' })
  @ApiOkResponse({ type: IncidentScopeDto })
  scope(@Param('id', UUID_V4) id: string): Promise<IncidentScopeDto> {
    return this.incidents.scope(id);
  }

  @Post(':id/credentials')
  @HttpCode(200)
  @Audit('incident.credentials.link', RESOURCE)
  @ApiOperation({ summary: 'Link credentials; an unknown id is a 404 and links nothing' })
  @ApiOkResponse({ type: IncidentScopeDto })
  linkCredentials(
    @Param('id', UUID_V4) id: string,
    @Body() body: IncidentCredentialsDto,
    @CurrentPrincipal() principal: Principal,
    @AuditCtx() context: AuditRequestContext,
  ): Promise<IncidentScopeDto> {
    return this.incidents.linkCredentials(id, body.credentialIds, principal, context);
  }

  @Delete(':id/credentials')
  @HttpCode(200)
  @Audit('incident.credentials.unlink', RESOURCE)
  @ApiOkResponse({ type: IncidentScopeDto })
  unlinkCredentials(
    @Param('id', UUID_V4) id: string,
    @Body() body: IncidentCredentialsDto,
    @AuditCtx() context: AuditRequestContext,
  ): Promise<IncidentScopeDto> {
    return this.incidents.unlinkCredentials(id, body.credentialIds, context);
  }

  @Post(':id/principals')
  @HttpCode(200)
  @Audit('incident.principals.link', RESOURCE)
  @ApiOperation({ summary: 'Link users or service accounts suspected of compromise' })
  @ApiOkResponse({ type: IncidentScopeDto })
  linkPrincipals(
    @Param('id', UUID_V4) id: string,
    @Body() body: IncidentPrincipalsDto,
    @CurrentPrincipal() principal: Principal,
    @AuditCtx() context: AuditRequestContext,
  ): Promise<IncidentScopeDto> {
    return this.incidents.linkPrincipals(id, body.principals, principal, context);
  }

  @Delete(':id/principals')
  @HttpCode(200)
  @Audit('incident.principals.unlink', RESOURCE)
  @ApiOkResponse({ type: IncidentScopeDto })
  unlinkPrincipals(
    @Param('id', UUID_V4) id: string,
    @Body() body: IncidentPrincipalsDto,
    @AuditCtx() context: AuditRequestContext,
  ): Promise<IncidentScopeDto> {
    return this.incidents.unlinkPrincipals(id, body.principals, context);
  }

  @Post(':id/contain')
  @HttpCode(200)
  @Audit('incident.contained', RESOURCE)
  @ApiOperation({
    summary:
      'Contain: emergency-rotate linked credentials, suspend linked principals, optionally freeze',
    description:
      'Credentials with an automatic rotator rotate with grace 0 (old versions revoked at once); the others get a waiting manual emergency run (must rotate). Linked service accounts lose their API keys and users their sessions; both are disabled. Safe to call again: credentials whose run is under way or succeeded are skipped, those whose run failed get a new emergency run; the must-rotate ones are listed in GET /incidents/:id as openActions until written.',
  })
  @ApiOkResponse({ type: IncidentResponseDto })
  async contain(
    @Param('id', UUID_V4) id: string,
    @Body() body: IncidentContainDto,
    @CurrentPrincipal() principal: Principal,
    @AuditCtx() context: AuditRequestContext,
  ) {
    const result = await this.containment.contain(id, body, principal, context);
    return {
      incident: IncidentResponseDto.from(result.incident),
      credentials: result.credentials,
      principals: result.principals,
    };
  }
}
