import { pathOnly } from '../../common/http/url-path';
import { auditHintOf } from '../../common/errors/domain-error';
import { loggableError } from '../../common/errors/loggable-error';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import type { FastifyRequest } from 'fastify';
import { auditConfig } from '../../config/audit.config';
import { AuditActor, AuditRequestContext, outcomeForStatus } from '../audit-context';
import { AuditWriter } from '../audit-writer';
import type { AuditRouteConfig } from './audit.decorator';

declare module 'fastify' {
  interface FastifyRequest {
    auditContext?: AuditRequestContext;
  }
}

// Vault's health route too: load balancers in front of Vault clients poll it every few seconds.
const PROBES = /^\/(api\/v1\/health\/(live|ready)|metrics|v1\/sys\/health)(\?|$)/;

/** Turns an HTTP request and its status into the one audit event of that request. */
@Injectable()
export class HttpAuditRecorder {
  private readonly logger = new Logger('AuditCapture');
  private readonly pending = new Set<Promise<void>>();
  private identify: (request: FastifyRequest) => Promise<AuditActor | null> = () =>
    Promise.resolve(null);

  constructor(
    private readonly writer: AuditWriter,
    @Inject(auditConfig.KEY) private readonly config: ConfigType<typeof auditConfig>,
  ) {}

  /** Called for every request before routing; the context travels with the request. */
  attach(request: FastifyRequest): AuditRequestContext {
    const userAgent = request.headers['user-agent'];
    request.auditContext = new AuditRequestContext(
      String(request.id),
      request.ip ?? null,
      typeof userAgent === 'string' ? userAgent : null,
    );
    return request.auditContext;
  }

  /**
   * How to tell who sent a request that authentication never saw. Set by the HTTP layer, as audit
   * knows nothing of tokens or keys.
   */
  identifyCallersWith(identify: (request: FastifyRequest) => Promise<AuditActor | null>): void {
    this.identify = identify;
  }

  isExcluded(request: FastifyRequest): boolean {
    return this.config.excludeProbes && PROBES.test(request.url);
  }

  /** Records the request's event unless a service already did; throws if it cannot. */
  async record(request: FastifyRequest, status: number, error?: unknown): Promise<void> {
    const context = request.auditContext ?? this.attach(request);
    if (context.recorded || context.captureAttempted || this.isExcluded(request)) return;
    // One attempt: a second one after a failed write would race the first or repeat its fault.
    context.captureAttempted = true;
    const route = request.routeOptions?.url;
    const config = (request.routeOptions?.config as { audit?: AuditRouteConfig } | undefined)
      ?.audit;
    const params = (request.params ?? {}) as Record<string, unknown>;
    const resourceId = config?.resourceIdParam ? params[config.resourceIdParam] : undefined;
    const hint = auditHintOf(error);
    await this.writer.record({
      action: config?.action ?? defaultAction(request.method, route),
      outcome: hint?.outcome ?? outcomeForStatus(status),
      httpStatus: status,
      resourceType: config?.resourceType ?? null,
      resourceId: typeof resourceId === 'string' ? resourceId : null,
      details: {
        method: request.method,
        route: route ?? null,
        path: route ? undefined : pathOnly(request.url),
        ...paramDetails(params, config?.detailParams),
        ...errorDetails(error),
        ...hint?.details,
      },
      context,
    });
  }

  /** For requests answered without a handler (404, refused by a guard, bad body): after the fact. */
  recordAfterResponse(request: FastifyRequest, status: number): void {
    const context = request.auditContext;
    if (context?.recorded || context?.captureAttempted || this.isExcluded(request)) return;
    const recording = this.identifyCaller(request, status)
      .then(() => this.record(request, status))
      .catch((error: unknown) =>
        this.logger.error(
          { err: loggableError(error), requestId: request.id },
          'Could not record the audit event of a refused request',
        ),
      );
    this.pending.add(recording);
    void recording.finally(() => this.pending.delete(recording));
  }

  /**
   * A request refused before the auth guard ran (bad body, too large, no such route, throttled)
   * still names a caller whose token or key is valid. A 401 came from the guard itself, so its
   * credentials are known to be invalid and are not looked up again.
   */
  private async identifyCaller(request: FastifyRequest, status: number): Promise<void> {
    const context = request.auditContext ?? this.attach(request);
    if (context.actor.type !== 'anonymous' || status === 401) return;
    const actor = await this.identify(request).catch(() => null);
    if (actor) context.actor = actor;
  }

  /** Waits for after-the-fact records still in flight (on shutdown, before the pool closes). */
  async drain(): Promise<void> {
    await Promise.all([...this.pending]);
  }
}

/** `GET /api/v1/credentials/:id/versions` → `credentials.versions.read`; no route → `http.unmatched`. */
export function defaultAction(method: string, route: string | undefined): string {
  if (!route) return 'http.unmatched';
  const parts = route
    .replace(/^\/api\/v1\/?/, '')
    .split('/')
    .filter((part) => part && !part.startsWith(':') && !part.includes('*'));
  const verb = VERBS[method] ?? method.toLowerCase();
  return [...parts.map((p) => p.toLowerCase().replace(/[^a-z0-9_-]/g, '')), verb].join('.');
}

const VERBS: Record<string, string> = {
  GET: 'read',
  HEAD: 'read',
  POST: 'create',
  PUT: 'update',
  PATCH: 'update',
  DELETE: 'delete',
};

function paramDetails(
  params: Record<string, unknown>,
  names: Record<string, string> | undefined,
): Record<string, unknown> {
  if (!names) return {};
  return Object.fromEntries(
    Object.entries(names)
      .filter(([, param]) => typeof params[param] === 'string')
      .map(([detail, param]) => [detail, params[param]]),
  );
}

/** What went wrong, without values: field names of a validation error, the error's kind. */
function errorDetails(error: unknown): Record<string, unknown> {
  if (!error || typeof error !== 'object') return {};
  const fields = (error as { fields?: { field: string }[] }).fields;
  return {
    error: (error as Error).name ?? 'Error',
    ...(Array.isArray(fields) ? { fields: fields.map((f) => f.field) } : {}),
  };
}
