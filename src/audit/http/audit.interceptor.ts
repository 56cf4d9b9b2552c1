import {
  CallHandler,
  ExecutionContext,
  HttpStatus,
  Injectable,
  NestInterceptor,
  RequestMethod,
} from '@nestjs/common';
import { HTTP_CODE_METADATA } from '@nestjs/common/constants';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { catchError, from, mergeMap, Observable, throwError } from 'rxjs';
import { toErrorBody } from '../../common/errors/to-error-body';
import { HttpAuditRecorder } from './http-audit-recorder';

/**
 * Records the event of every request that reaches a handler, before the response leaves: if the
 * event cannot be written, the caller gets a 500 and not the data (fail closed). Requests refused
 * earlier (guards, routing, body parsing) are recorded by the onResponse hook instead.
 */
@Injectable()
export class AuditInterceptor implements NestInterceptor {
  constructor(
    private readonly recorder: HttpAuditRecorder,
    private readonly reflector: Reflector,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const status = this.successStatus(context, request.method);
    return next.handle().pipe(
      mergeMap((body: unknown) => from(this.recorder.record(request, status).then(() => body))),
      catchError((error: unknown) =>
        from(this.recorder.record(request, toErrorBody(error).statusCode, error)).pipe(
          mergeMap(() => throwError(() => error)),
        ),
      ),
    );
  }

  private successStatus(context: ExecutionContext, method: string): number {
    const declared = this.reflector.get<number | undefined>(
      HTTP_CODE_METADATA,
      context.getHandler(),
    );
    return (
      declared ??
      (method === RequestMethod[RequestMethod.POST] ? HttpStatus.CREATED : HttpStatus.OK)
    );
  }
}
