import { Controller, Get, Header } from '@nestjs/common';
import { RevealThrottled } from '../../common/http/reveal-throttle';
import {
  ApiBearerAuth,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiSecurity,
  ApiTags,
} from '@nestjs/swagger';
import { AuditRequestContext } from '../../audit/audit-context';
import { MAX_PATH_LENGTH } from '../../auth/grants/path-pattern';
import { Audit } from '../../audit/http/audit.decorator';
import { AuditCtx } from '../../audit/http/audit-context.decorator';
import { ByGrant } from '../../common/auth/auth.decorators';
import { CurrentPrincipal } from '../../common/auth/current-principal.decorator';
import type { Principal } from '../../common/auth/principal';
import { ApiErrors } from '../../common/errors/error-response.dto';
import { API_KEY_SCHEME, JWT_SCHEME } from '../../common/http/openapi-schemes';
import { RevealResponseDto } from '../dto/reveal.dto';
import { RevealService } from '../reveal.service';
import { CREDENTIAL_PATH } from './credential-path.pipe';
import { WildcardPath } from './wildcard-path.decorator';

@ApiTags('secrets')
@ApiSecurity(API_KEY_SCHEME)
@ApiBearerAuth(JWT_SCHEME)
@ApiErrors(400, 401)
@Controller('secrets')
export class SecretsController {
  constructor(private readonly reveals: RevealService) {}

  // Fastify's wildcard: the rest of the URL, slashes included, in the '*' parameter.
  @Get('*')
  @ByGrant('reveal')
  @RevealThrottled()
  @Header('Cache-Control', 'no-store')
  // A refused or failed read names the path asked for, which may hold no credential at all
  // (a success is recorded by the reveal itself, against the credential).
  @Audit('secret.read', {
    resourceType: 'credential_path',
    resourceIdParam: '*',
    detailParams: { path: '*' },
  })
  @ApiOperation({ summary: 'The current secret at a path, for services; audited like reveal' })
  @ApiParam({
    name: 'path',
    description: 'The credential path',
    // The wildcard is not bound by the router's parameter length; the path check bounds it.
    schema: { type: 'string', maxLength: MAX_PATH_LENGTH, example: 'acme/prod/mysql-root' },
  })
  @ApiOkResponse({ type: RevealResponseDto })
  @ApiErrors(404)
  async read(
    @WildcardPath(CREDENTIAL_PATH) path: string,
    @CurrentPrincipal() principal: Principal,
    @AuditCtx() context: AuditRequestContext,
  ): Promise<RevealResponseDto> {
    return this.reveals.revealByPath(path, principal, context);
  }
}
