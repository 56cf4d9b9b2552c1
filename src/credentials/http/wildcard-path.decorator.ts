import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

/**
 * The rest of the URL after `secrets/`, slashes included (Fastify's `*` parameter). A custom
 * decorator, so the OpenAPI document shows only the `path` parameter the route declares.
 */
export const WildcardPath = createParamDecorator(
  (_data: unknown, context: ExecutionContext): unknown =>
    (context.switchToHttp().getRequest<FastifyRequest>().params as Record<string, unknown>)['*'],
);
