import { Controller, Get, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { Audit } from '../../audit/http/audit.decorator';
import { Roles } from '../../common/auth/auth.decorators';
import { CurrentPrincipal } from '../../common/auth/current-principal.decorator';
import type { Principal } from '../../common/auth/principal';
import { ApiErrors } from '../../common/errors/error-response.dto';
import { API_KEY_SCHEME, JWT_SCHEME } from '../../common/http/openapi-schemes';
import { UUID_V4 } from '../../common/http/uuid-param';
import { AdoptionService } from '../adoption/adoption.service';
import { AdoptionReportDto } from '../adoption/dto/adoption.dto';

@ApiTags('rotation')
@ApiBearerAuth(JWT_SCHEME)
@ApiSecurity(API_KEY_SCHEME)
@ApiErrors(400, 401)
@Controller('credentials')
export class RotationAdoptionController {
  constructor(private readonly adoption: AdoptionService) {}

  @Get(':id/rotations/:runId/adoption')
  @Roles('admin', 'operator', 'auditor')
  @Audit('rotation.adoption.read', {
    resourceType: 'credential',
    resourceIdParam: 'id',
    detailParams: { runId: 'runId' },
  })
  @ApiOperation({
    summary: "Who has picked up a rotation's new value",
    description:
      'From the audit log: the consumers are the principals that revealed the credential ' +
      '(by id or by path) during ROTATION_ADOPTION_WINDOW before the rotation finished; each ' +
      'has adopted once it has revealed the new version since. 409 for a run that did not ' +
      'succeed.',
  })
  @ApiOkResponse({ type: AdoptionReportDto })
  @ApiErrors(404, 409)
  async adoptionOf(
    @Param('id', UUID_V4) id: string,
    @Param('runId', UUID_V4) runId: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<AdoptionReportDto> {
    return AdoptionReportDto.from(await this.adoption.forRun(id, runId, principal));
  }
}
