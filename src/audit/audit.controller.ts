import {
  Body,
  Controller,
  Get,
  HttpCode,
  Logger,
  Post,
  Query,
  StreamableFile,
} from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { Roles } from '../common/auth/auth.decorators';
import { JWT_SCHEME } from '../common/http/openapi-schemes';
import { Readable } from 'node:stream';
import { ApiErrors } from '../common/errors/error-response.dto';
import { loggableError } from '../common/errors/loggable-error';
import { AuditEventRecord } from './audit-event.record';
import { AuditQueryService } from './audit-query.service';
import { AuditVerificationService } from './audit-verification.service';
import {
  AuditPublicKeysResponseDto,
  AuditVerifyRequestDto,
  toCheckpointStatement,
} from './dto/audit-checkpoint.dto';
import { AuditEventFilterDto, AuditEventQueryDto } from './dto/audit-event-query.dto';
import { AuditEventPageDto, AuditVerifyResponseDto } from './dto/audit-event-response.dto';
import { Audit } from './http/audit.decorator';

const logger = new Logger('AuditExport');
const GUARD_NOTE = 'Admin and auditor only.';

@ApiTags('audit')
@ApiBearerAuth(JWT_SCHEME)
@Roles('admin', 'auditor')
@ApiErrors(400, 401)
@Controller('audit')
export class AuditController {
  constructor(
    private readonly queries: AuditQueryService,
    private readonly verification: AuditVerificationService,
  ) {}

  @Get('events')
  @Audit('audit.events.list')
  @ApiOperation({
    summary: 'Query audit events (newest first, keyset pagination by seq)',
    description: GUARD_NOTE,
  })
  @ApiOkResponse({ type: AuditEventPageDto })
  list(@Query() query: AuditEventQueryDto): Promise<AuditEventPageDto> {
    return this.queries.list(query);
  }

  @Get('events/export')
  @Audit('audit.events.export')
  @ApiOperation({
    summary: 'Export matching audit events as NDJSON, oldest first, streamed',
    description: GUARD_NOTE,
  })
  @ApiProduces('application/x-ndjson')
  async export(@Query() filter: AuditEventFilterDto): Promise<StreamableFile> {
    const events = this.queries.export(filter);
    // Read the first batch before answering, so a failure there is an ordinary 500, not a
    // download that is empty.
    const first = await events.next();
    const lines = Readable.from(ndjson(first, events));
    return new StreamableFile(lines, {
      type: 'application/x-ndjson; charset=utf-8',
      disposition: 'attachment; filename="custos-audit.ndjson"',
    });
  }

  @Post('verify')
  @HttpCode(200)
  @Audit('audit.verify')
  @ApiOperation({
    summary: 'Walk the hash chain and report the first tampered event, if any',
    description:
      `${GUARD_NOTE} Each lane is checked against its head in one consistent snapshot, so events ` +
      'written meanwhile are left to the next run. The latest stored checkpoint is checked, and ' +
      'the checkpoint in the body too when given: a tail cut below it is reported.',
  })
  @ApiOkResponse({ type: AuditVerifyResponseDto })
  verify(@Body() body: AuditVerifyRequestDto = {}): Promise<AuditVerifyResponseDto> {
    return this.verification.verify(
      body.checkpoint ? toCheckpointStatement(body.checkpoint) : undefined,
    );
  }

  @Get('public-key')
  @Audit('audit.public-key.read')
  @ApiOperation({
    summary: 'The Ed25519 public keys that sign audit checkpoints',
    description: `${GUARD_NOTE} With it, anyone can check a checkpoint line a sink received, without the master key.`,
  })
  @ApiOkResponse({ type: AuditPublicKeysResponseDto })
  publicKey(): AuditPublicKeysResponseDto {
    return this.verification.publicKeys();
  }
}

/**
 * The export's lines. A read failing mid-way ends the stream with an error line, so a consumer
 * can tell a cut-off export from a complete one; the cause goes to the log only.
 */
async function* ndjson(
  first: IteratorResult<AuditEventRecord>,
  rest: AsyncGenerator<AuditEventRecord>,
): AsyncGenerator<string> {
  if (first.done) return;
  yield `${JSON.stringify(first.value)}\n`;
  try {
    for await (const event of rest) yield `${JSON.stringify(event)}\n`;
  } catch (error) {
    logger.error({ err: loggableError(error) }, 'Audit export failed mid-stream');
    yield `${JSON.stringify({ type: 'error', message: 'export interrupted; the lines above are incomplete' })}\n`;
  }
}
