import { pathOnly } from '../http/url-path';
import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { loggableError } from './loggable-error';
import { isDatabaseOutage } from './database-failure';
import { retryAfterOf, toErrorBody } from './to-error-body';

/** The one place errors become HTTP responses, each with the request id. */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpError');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const body = { ...toErrorBody(exception), requestId: String(request.id) };
    if (body.statusCode >= 500 && body.statusCode !== 503) {
      this.logger.error(
        { err: loggableError(exception), requestId: body.requestId },
        `Unhandled error on ${request.method} ${pathOnly(request.url)}`,
      );
    } else if (isDatabaseOutage(exception) || isDatabaseOutage(causeOf(exception))) {
      // A 503 the client may retry, but an operator wants to see the weather in the log.
      this.logger.warn(
        { err: loggableError(causeOf(exception) ?? exception), requestId: body.requestId },
        `Database busy or unavailable on ${request.method} ${pathOnly(request.url)}`,
      );
    }
    if (reply.sent) return;
    const retryAfter = retryAfterOf(exception);
    if (retryAfter !== undefined) void reply.header('retry-after', String(retryAfter));
    void reply
      .status(body.statusCode)
      .header('content-type', 'application/json; charset=utf-8')
      .send(body);
  }
}

function causeOf(error: unknown): unknown {
  return error instanceof Error ? error.cause : undefined;
}
