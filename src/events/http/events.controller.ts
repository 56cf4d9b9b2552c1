import { Controller, Get, Headers, Query, Req, Res } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiSecurity,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Audit } from '../../audit/http/audit.decorator';
import { ByGrant } from '../../common/auth/auth.decorators';
import { CurrentPrincipal } from '../../common/auth/current-principal.decorator';
import type { Principal } from '../../common/auth/principal';
import { ApiErrors } from '../../common/errors/error-response.dto';
import { API_KEY_SCHEME, JWT_SCHEME } from '../../common/http/openapi-schemes';
import { RequestValidationError } from '../../common/validation/request-validation.error';
import { EventStreamQueryDto, STREAM_SEQ } from '../dto/event-stream-query.dto';
import { EventStreamService } from '../stream/event-stream.service';

const EXAMPLE =
  'retry: 3000\nid: 41\nevent: ready\ndata: {"streamSeq":"41"}\n\n' +
  'id: 42\nevent: rotation.succeeded\ndata: {"streamSeq":"42","type":"rotation.succeeded",' +
  '"resourceType":"credential","resourceId":"5b1e6c2a-8d3f-4a7b-9c1d-2e3f4a5b6c7d",' +
  '"path":"acme/prod/db","data":{"runId":"3b9e2f7c-6d1a-4c8b-b5e4-0a7f9d2c1e63","version":3,' +
  '"previousVersion":2,"graceUntil":"2026-12-01T10:00:00.000Z"},"createdAt":"2026-11-30T10:00:00.000Z"}\n\n' +
  ': heartbeat\n\n';

@ApiTags('events')
@ApiBearerAuth(JWT_SCHEME)
@ApiSecurity(API_KEY_SCHEME)
@Controller('events')
export class EventsController {
  constructor(private readonly streams: EventStreamService) {}

  @Get()
  @ByGrant('read')
  @Audit('events.stream')
  @ApiOperation({
    summary: 'Events as Server-Sent Events: rotations, expiries, revoked versions, incidents',
    description:
      'Open to every principal; each hears only of credentials it may `read` (role or grant, ' +
      'checked again for every event, so a revoked grant takes effect at once); incident ' +
      'events only to admins, operators and auditors, never to viewers or services. Each message ' +
      'has the stream sequence as `id`, the event type as `event` and the event as JSON ' +
      '`data`; never a secret value. Reconnect with `Last-Event-ID` (EventSource does) to ' +
      'resume without gaps or repeats; without it the stream starts now, after the position ' +
      'the first `ready` message names. A comment is sent when the stream is quiet; the key ' +
      'or token is checked again then, and the stream ends when it no longer authenticates.',
  })
  @ApiHeader({
    name: 'Last-Event-ID',
    required: false,
    description: 'Resume after this stream sequence (the `id` of the last message received)',
    schema: { type: 'string', pattern: STREAM_SEQ.source, maxLength: 19 },
  })
  // The stream's media type on the 200 only: errors stay JSON (ApiProduces would change them all).
  @ApiOkResponse({
    description: 'A stream of events that lasts until either side ends it',
    content: { 'text/event-stream': { schema: { type: 'string' }, example: EXAMPLE } },
  })
  @ApiErrors(400, 401, 403)
  async stream(
    @Query() query: EventStreamQueryDto,
    @Headers('last-event-id') lastEventId: string | undefined,
    @CurrentPrincipal() principal: Principal,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    await this.streams.open(request, reply, principal, {
      after: resumeAfter(lastEventId, query.lastEventId),
      types: query.types,
    });
  }
}

/** The header (what EventSource sends on reconnecting) wins over the query parameter. */
function resumeAfter(header: string | undefined, query: string | undefined): string | undefined {
  if (header === undefined || header === '') return query;
  if (!STREAM_SEQ.test(header)) {
    throw new RequestValidationError([
      {
        field: 'Last-Event-ID',
        errors: ['Last-Event-ID must be a stream sequence (a whole number)'],
      },
    ]);
  }
  return header;
}
