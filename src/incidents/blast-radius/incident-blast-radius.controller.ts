import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Audit } from '../../audit/http/audit.decorator';
import { INCIDENT_READERS } from '../../common/auth/access-vocabulary';
import { Roles } from '../../common/auth/auth.decorators';
import { ApiErrors } from '../../common/errors/error-response.dto';
import { JWT_SCHEME } from '../../common/http/openapi-schemes';
import { UUID_V4 } from '../../common/http/uuid-param';
import type { BlastRadius } from './blast-radius.types';
import { BlastRadiusQueryDto } from './dto/blast-radius-query.dto';
import { IncidentExport, IncidentExportService } from './incident-export.service';

const READERS = 'Admins, operators and auditors.';

/** The "who could have seen it" answers of an incident; read-only, so auditors have them too. */
@ApiTags('incidents')
@ApiBearerAuth(JWT_SCHEME)
@Roles(...INCIDENT_READERS)
@ApiErrors(400, 401, 404)
@Controller('incidents')
export class IncidentBlastRadiusController {
  constructor(private readonly exports: IncidentExportService) {}

  @Get(':id/blast-radius')
  @Audit('incident.blast_radius', { resourceType: 'incident', resourceIdParam: 'id' })
  @ApiOperation({
    summary:
      "Who revealed the incident's credentials, who may now, and what its principals revealed",
    description: READERS,
  })
  @ApiOkResponse({ description: 'The blast radius (no secret values)' })
  blastRadius(
    @Param('id', UUID_V4) id: string,
    @Query() query: BlastRadiusQueryDto,
  ): Promise<BlastRadius> {
    return this.exports.radius(id, query.since ? new Date(query.since) : undefined);
  }

  @Get(':id/export')
  @Audit('incident.export', { resourceType: 'incident', resourceIdParam: 'id' })
  @ApiOperation({
    summary:
      'The incident, its timeline and blast radius, with the audit chain heads read with them',
    description: READERS,
  })
  @ApiOkResponse({ description: 'JSON export' })
  export(
    @Param('id', UUID_V4) id: string,
    @Query() query: BlastRadiusQueryDto,
  ): Promise<IncidentExport> {
    return this.exports.export(id, query.since ? new Date(query.since) : undefined);
  }
}
