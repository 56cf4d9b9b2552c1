import { Body, Controller, Delete, Get, HttpCode, Param, Put, Query } from '@nestjs/common';
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
import { Roles } from '../../common/auth/auth.decorators';
import { CurrentPrincipal } from '../../common/auth/current-principal.decorator';
import type { Principal } from '../../common/auth/principal';
import { ApiErrors } from '../../common/errors/error-response.dto';
import { JWT_SCHEME } from '../../common/http/openapi-schemes';
import { UUID_V4 } from '../../common/http/uuid-param';
import { PatternPolicyListQueryDto } from '../policy/dto/pattern-policy-query.dto';
import {
  PatternPolicyPageDto,
  PatternPolicyResponseDto,
} from '../policy/dto/rotation-policy-response.dto';
import { PatternPolicyWriteDto } from '../policy/dto/rotation-policy-write.dto';
import { PatternPolicyService } from '../policy/pattern-policy.service';

const RESOURCE = { resourceType: 'rotation_policy', resourceIdParam: 'id' };

@ApiTags('rotation')
@ApiBearerAuth(JWT_SCHEME)
@ApiErrors(400, 401)
@Controller('rotation-policies')
export class RotationPoliciesController {
  constructor(private readonly policies: PatternPolicyService) {}

  @Put()
  @Roles('admin')
  @Audit('rotation.pattern_policy.update', { resourceType: 'rotation_policy' })
  @ApiOperation({
    summary:
      'Set the rotation policy of a path pattern (replaces the pattern’s policy); reschedules every credential it now governs',
  })
  @ApiOkResponse({ type: PatternPolicyResponseDto })
  async put(
    @Body() body: PatternPolicyWriteDto,
    @CurrentPrincipal() principal: Principal,
    @AuditCtx() context: AuditRequestContext,
  ): Promise<PatternPolicyResponseDto> {
    const { policy, warnings } = await this.policies.put(body, principal, context);
    return PatternPolicyResponseDto.from(policy, warnings);
  }

  @Get()
  @Roles('admin', 'operator', 'auditor')
  @Audit('rotation.pattern_policy.list', { resourceType: 'rotation_policy' })
  @ApiOperation({ summary: 'Path-pattern rotation policies, by pattern' })
  @ApiOkResponse({ type: PatternPolicyPageDto })
  async list(@Query() query: PatternPolicyListQueryDto): Promise<PatternPolicyPageDto> {
    const page = await this.policies.list(query);
    return {
      items: page.items.map((policy) => PatternPolicyResponseDto.from(policy)),
      nextCursor: page.nextCursor,
    };
  }

  @Get(':id')
  @Roles('admin', 'operator', 'auditor')
  @Audit('rotation.pattern_policy.read', RESOURCE)
  @ApiOkResponse({ type: PatternPolicyResponseDto })
  @ApiErrors(404)
  async get(@Param('id', UUID_V4) id: string): Promise<PatternPolicyResponseDto> {
    return PatternPolicyResponseDto.from(await this.policies.get(id));
  }

  @Delete(':id')
  @HttpCode(204)
  @Roles('admin')
  @Audit('rotation.pattern_policy.delete', RESOURCE)
  @ApiOperation({
    summary: 'Delete a path-pattern policy; the credentials it governed are rescheduled',
  })
  @ApiNoContentResponse()
  @ApiErrors(404)
  async remove(
    @Param('id', UUID_V4) id: string,
    @AuditCtx() context: AuditRequestContext,
  ): Promise<void> {
    await this.policies.remove(id, context);
  }
}
