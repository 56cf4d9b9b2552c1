import { Inject, Injectable } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HttpAuditRecorder } from '../../audit/http/http-audit-recorder';
import { AccessPolicy } from '../../auth/grants/access-policy';
import { AuthGuard } from '../../auth/guards/auth.guard';
import type { Principal } from '../../common/auth/principal';
import { REQUEST_ID_HEADER } from '../../common/http/request-id';
import { eventsConfig } from '../../config/events.config';
import { typeFilterOf } from '../event-type-filter';
import { EventStreamHub } from './event-stream-hub';
import { EventStreamSession } from './event-stream-session';
import { EventStreamClosingError } from './event-stream.errors';

export interface StreamRequest {
  /** Resume after this stream sequence (Last-Event-ID); absent: from now on. */
  after?: string;
  /** Exact types or `prefix.*`, validated; absent or empty: every type. */
  types?: string[];
}

/**
 * Opens a listener's event stream. The connection is a request like any other: its audit event
 * is written, and committed, before the first byte of the stream is sent, so a stream is never
 * served unrecorded (fail closed); the HTTP capture then sees it recorded and adds nothing when
 * the handler returns, which it does at once, leaving the stream running.
 */
@Injectable()
export class EventStreamService {
  constructor(
    private readonly hub: EventStreamHub,
    private readonly policy: AccessPolicy,
    private readonly auth: AuthGuard,
    private readonly audit: HttpAuditRecorder,
    @Inject(eventsConfig.KEY) private readonly config: ConfigType<typeof eventsConfig>,
  ) {}

  async open(
    request: FastifyRequest,
    reply: FastifyReply,
    principal: Principal,
    options: StreamRequest,
  ): Promise<void> {
    const session = new EventStreamSession(reply.raw, this.hub, {
      types: typeFilterOf(options.types),
      heartbeatMs: this.config.streamHeartbeatMs,
      role: principal.type === 'user' ? principal.role : null,
      accessOf: () => this.policy.forPrincipal(principal),
      stillAuthenticated: () => this.auth.stillAuthenticates(request, principal),
    });
    // Joined first: the first listener after a quiet spell makes the hub start from now.
    this.hub.join(session);
    let after: bigint;
    try {
      after = options.after !== undefined ? BigInt(options.after) : await this.hub.position();
      await this.audit.record(request, 200);
      // The server began shutting down meanwhile: answer 503, the client connects again.
      if (session.isClosed) throw new EventStreamClosingError();
    } catch (error) {
      this.hub.leave(session);
      throw error;
    }
    reply.hijack();
    reply.raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      // The connection ends with the stream: a socket kept alive after it would hold up a
      // shutting-down server until the client let go of it.
      connection: 'close',
      // Proxies such as nginx would otherwise hold events back in their buffers.
      'x-accel-buffering': 'no',
      [REQUEST_ID_HEADER]: String(request.id),
    });
    void session.run(after);
  }
}
