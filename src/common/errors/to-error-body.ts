import { HttpException, NotFoundException } from '@nestjs/common';
import { STATUS_CODES } from 'node:http';
import { RequestValidationError } from '../validation/request-validation.error';
import { asDatabaseOutage } from './database-errors';
import { DomainError } from './domain-error';
import { ErrorBody } from './error-body';
import { STATUS_BY_KIND } from './error-status';

type Mapped = Omit<ErrorBody, 'requestId'>;

/**
 * Maps anything thrown to the public error shape. Only errors we recognise keep their message;
 * everything else is a generic 500 so that no stack, SQL or key material reaches a client.
 */
export function toErrorBody(exception: unknown): Mapped {
  exception = asDatabaseOutage(exception) ?? exception;
  if (exception instanceof DomainError) {
    const body = base(STATUS_BY_KIND[exception.kind], exception.message);
    if (exception instanceof RequestValidationError) return { ...body, fields: exception.fields };
    return exception.details ? { ...body, details: exception.details } : body;
  }
  if (exception instanceof HttpException) return fromHttpException(exception);
  if (isClientFrameworkError(exception)) {
    // Fastify's coded errors say what was wrong with the request; others get the status text.
    const { statusCode, message, code } = exception;
    return base(
      statusCode,
      code?.startsWith('FST_') ? message : (STATUS_CODES[statusCode] ?? 'Error'),
    );
  }
  return base(500, 'Internal server error');
}

/** The `Retry-After` seconds for an error that says when to come back (a busy database). */
export function retryAfterOf(exception: unknown): number | undefined {
  const mapped = asDatabaseOutage(exception) ?? exception;
  return mapped instanceof DomainError ? mapped.retryAfterSeconds : undefined;
}

function fromHttpException(exception: HttpException): Mapped {
  const status = exception.getStatus();
  const response = exception.getResponse();
  if (status >= 500 && status !== 503) return base(status, 'Internal server error');
  if (typeof response === 'string') return base(status, response);
  const record = response as Record<string, unknown>;
  let message = Array.isArray(record.message)
    ? record.message.join('; ')
    : typeof record.message === 'string'
      ? record.message
      : exception.message;
  // Nest's unknown-route message quotes the URL; its query string may hold anything.
  if (exception instanceof NotFoundException) message = message.replace(/\?\S*/, '');
  const details = record.details;
  return details && typeof details === 'object'
    ? { ...base(status, message), details: details as Record<string, unknown> }
    : base(status, message);
}

/** Fastify's own 4xx errors (body too large, bad JSON, aborted body) carry a status. */
function isClientFrameworkError(
  exception: unknown,
): exception is { statusCode: number; message: string; code?: string } {
  if (!(exception instanceof Error)) return false;
  const { statusCode, code } = exception as { statusCode?: unknown; code?: unknown };
  return (
    typeof statusCode === 'number' &&
    statusCode >= 400 &&
    statusCode < 500 &&
    (code === undefined || (typeof code === 'string' && code.startsWith('FST_')))
  );
}

function base(statusCode: number, message: string): Mapped {
  return { statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message };
}
