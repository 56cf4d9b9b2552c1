import { applyDecorators } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';

export interface AuditRouteConfig {
  action: string;
  /** What kind of resource the route acts on, e.g. `credential`. */
  resourceType?: string;
  /** Route parameter holding the resource id, e.g. `id`. */
  resourceIdParam?: string;
  /** Route parameters copied into the details, by detail name, e.g. `{ path: '*' }`. */
  detailParams?: Record<string, string>;
}

/**
 * Names the audit action of a route (`@Audit('credential.reveal')`). Stored in the Fastify route
 * config, so the capture finds it even for requests refused before Nest runs the handler.
 */
export function Audit(
  action: string,
  options: Omit<AuditRouteConfig, 'action'> = {},
): MethodDecorator {
  return applyDecorators(RouteConfig({ audit: { action, ...options } satisfies AuditRouteConfig }));
}
