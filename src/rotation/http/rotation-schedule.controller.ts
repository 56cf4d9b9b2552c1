import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { Audit } from '../../audit/http/audit.decorator';
import { ByGrant } from '../../common/auth/auth.decorators';
import { CurrentPrincipal } from '../../common/auth/current-principal.decorator';
import type { Principal } from '../../common/auth/principal';
import { ApiErrors } from '../../common/errors/error-response.dto';
import { API_KEY_SCHEME, JWT_SCHEME } from '../../common/http/openapi-schemes';
import {
  RotationDueQueryDto,
  RotationOverdueQueryDto,
  RotationScheduleItemDto,
  RotationSchedulePageDto,
  SCHEDULE_PAGE_DEFAULT,
} from '../dto/rotation-schedule.dto';
import { RotationScheduleQuery, SchedulePage } from '../schedule/rotation-schedule.query';

const WHO =
  'Admins, operators and auditors see every credential; anyone else (viewers, services) sees ' +
  'the credentials it may both read and rotate by grant, possibly none. Ordered by path.';

const PAGE_EXAMPLE = {
  items: [
    {
      credentialId: '8d0f6a4e-2b1c-4f7e-9a3d-5c6b7a8e9f01',
      path: 'acme/prod/mysql-root',
      type: 'password',
      nextRotationAt: '2026-11-28T02:00:00.000Z',
      rotationStatus: 'failed',
      overdueSeconds: 5400,
    },
    {
      credentialId: '1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f',
      path: 'acme/prod/stripe-key',
      type: 'api_key',
      nextRotationAt: '2026-11-28T03:00:00.000Z',
      rotationStatus: 'awaiting_value',
      runId: '3b9e2f7c-6d1a-4c8b-b5e4-0a7f9d2c1e63',
    },
  ],
  nextCursor: null,
} satisfies RotationSchedulePageDto;

@ApiTags('rotations')
@ApiBearerAuth(JWT_SCHEME)
@ApiSecurity(API_KEY_SCHEME)
@ApiErrors(400, 401)
@Controller('rotations')
export class RotationScheduleController {
  constructor(private readonly schedule: RotationScheduleQuery) {}

  @Get('due')
  @ByGrant('rotate')
  @Audit('rotation.due.list', { resourceType: 'credential' })
  @ApiOperation({
    summary: 'Credentials whose rotation time has come, and those with a rotation in flight',
    description: WHO,
  })
  @ApiOkResponse({ type: RotationSchedulePageDto, example: PAGE_EXAMPLE })
  async due(
    @Query() query: RotationDueQueryDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<RotationSchedulePageDto> {
    const limit = query.limit ?? SCHEDULE_PAGE_DEFAULT;
    return toDto(await this.schedule.due(limit, query.cursor, principal));
  }

  @Get('overdue')
  @ByGrant('rotate')
  @Audit('rotation.overdue.list', { resourceType: 'credential' })
  @ApiOperation({
    summary:
      'Credentials late for rotation: past ROTATION_OVERDUE_AFTER, or a manual rotation ' +
      'waiting past ROTATION_MANUAL_OVERDUE_AFTER',
    description: WHO,
  })
  @ApiOkResponse({
    type: RotationSchedulePageDto,
    example: { ...PAGE_EXAMPLE, items: [PAGE_EXAMPLE.items[0]] },
  })
  async overdue(
    @Query() query: RotationOverdueQueryDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<RotationSchedulePageDto> {
    const limit = query.limit ?? SCHEDULE_PAGE_DEFAULT;
    return toDto(await this.schedule.overdue(limit, query.cursor, principal));
  }
}

function toDto(page: SchedulePage): RotationSchedulePageDto {
  return {
    items: page.items.map((item) => RotationScheduleItemDto.from(item)),
    nextCursor: page.nextCursor,
  };
}
