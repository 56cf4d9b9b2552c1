import { Controller, Get, HttpCode, Post, Query, StreamableFile } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { Readable } from 'node:stream';
import { ApiErrors } from '../common/errors/error-response.dto';
import { AuditQueryService } from './audit-query.service';
import { AuditVerificationService } from './audit-verification.service';
import { AuditEventFilterDto, AuditEventQueryDto } from './dto/audit-event-query.dto';
import { AuditEventPageDto, AuditVerifyResponseDto } from './dto/audit-event-response.dto';
import { Audit } from './http/audit.decorator';

const GUARD_NOTE = 'Admin and auditor only once authentication is in place (auth issue).';

@ApiTags('audit')
@ApiErrors(400)
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
  export(@Query() filter: AuditEventFilterDto): StreamableFile {
    const lines = Readable.from(
      (async function* (events) {
        for await (const event of events) yield `${JSON.stringify(event)}\n`;
      })(this.queries.export(filter)),
    );
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
    description: GUARD_NOTE,
  })
  @ApiOkResponse({ type: AuditVerifyResponseDto })
  verify(): Promise<AuditVerifyResponseDto> {
    return this.verification.verify();
  }
}
