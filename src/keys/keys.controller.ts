import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { AuditRequestContext } from '../audit/audit-context';
import { Audit } from '../audit/http/audit.decorator';
import { AuditCtx } from '../audit/http/audit-context.decorator';
import { Roles } from '../common/auth/auth.decorators';
import { ApiErrors } from '../common/errors/error-response.dto';
import { JWT_SCHEME } from '../common/http/openapi-schemes';
import { KeyRotationService } from './key-rotation.service';
import { KeyRotateDto, KeyStatusDto } from './keys.dto';

@ApiTags('keys')
@ApiBearerAuth(JWT_SCHEME)
@ApiErrors(400, 401)
@Roles('admin')
@Controller('keys')
export class KeysController {
  constructor(private readonly rotation: KeyRotationService) {}

  @Post('rotate')
  @HttpCode(202)
  @Audit('keys.rotate', { resourceType: 'master_key' })
  @ApiOperation({
    summary: 'Activate a new master key and re-wrap every data key under it in the background',
    description:
      'Configure the new key on every instance first (CUSTOS_MASTER_KEYS or CUSTOS_MASTER_KEYS_DIR, old and new). Follow progress with GET /keys/status. Calling it again for the active key resumes re-wrapping.',
  })
  @ApiAcceptedResponse({ type: KeyStatusDto })
  async rotate(
    @Body() body: KeyRotateDto,
    @AuditCtx() context: AuditRequestContext,
  ): Promise<KeyStatusDto> {
    await this.rotation.activate(body.keyId, context);
    this.rotation.start();
    return KeyStatusDto.from(await this.rotation.status());
  }

  @Get('status')
  @Audit('keys.status', { resourceType: 'master_key' })
  @ApiOperation({ summary: 'Master keys, what each still protects, and re-wrap progress' })
  @ApiOkResponse({ type: KeyStatusDto })
  async status(): Promise<KeyStatusDto> {
    return KeyStatusDto.from(await this.rotation.status());
  }
}
