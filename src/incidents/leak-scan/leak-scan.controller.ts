import { Body, Controller, Header, HttpCode, PayloadTooLargeException, Post } from '@nestjs/common';
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
import {
  LeakScanBypassDto,
  LeakScanRequestDto,
  LeakScanResponseDto,
  SCAN_MAX_BYTES,
} from './leak-scan.dto';
import { LeakScanService } from './leak-scan.service';

/**
 * Any authenticated principal may scan: it learns only of matches on credentials it may `read`
 * (by role or grant) and the number of the others, so the routes are documented as `read` ones,
 * decided per credential like the other grant routes (the access matrix checks them so).
 */
@ApiTags('leak scan')
@ApiBearerAuth(JWT_SCHEME)
@ApiSecurity(API_KEY_SCHEME)
@ApiErrors(400, 401)
@Controller('scan')
export class LeakScanController {
  constructor(private readonly scans: LeakScanService) {}

  @Post()
  @ByGrant('read')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @Audit('leak.scan', { resourceType: 'leak_scan' })
  @ApiOperation({
    summary:
      'Which stored secrets appear in a text (matched by keyed fingerprints, nothing decrypted)',
  })
  @ApiOkResponse({ type: LeakScanResponseDto })
  @ApiErrors(413)
  async scan(
    @Body() body: LeakScanRequestDto,
    @CurrentPrincipal() principal: Principal,
    @AuditCtx() context: AuditRequestContext,
  ): Promise<LeakScanResponseDto> {
    if (Buffer.byteLength(body.text, 'utf8') > SCAN_MAX_BYTES) {
      throw new PayloadTooLargeException(
        `text must be at most ${SCAN_MAX_BYTES / 1024} KiB; scan it in parts`,
      );
    }
    return this.scans.scan(body, principal, context);
  }

  @Post('bypass')
  @ByGrant('read')
  @HttpCode(204)
  @Audit('leak.scan.bypass', { resourceType: 'leak_scan' })
  @ApiOperation({ summary: 'Record that a commit skipped the scan (the pre-commit hook’s bypass)' })
  @ApiNoContentResponse()
  async bypass(
    @Body() body: LeakScanBypassDto,
    @AuditCtx() context: AuditRequestContext,
  ): Promise<void> {
    await this.scans.recordBypass(body, context);
  }
}
