import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { AuditRequestContext } from '../audit-context';

/** The audit context of the current request, for services that record inside their transaction. */
export const AuditCtx = createParamDecorator(
  (_: unknown, context: ExecutionContext): AuditRequestContext | undefined =>
    context.switchToHttp().getRequest<FastifyRequest>().auditContext,
);
