import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { toErrorBody } from '../common/errors/to-error-body';
import { REQUEST_ID_HEADER } from '../common/http/request-id';
import { HttpAuditRecorder } from '../audit/http/http-audit-recorder';
import { AuthGuard } from '../auth/guards/auth.guard';
import { KeyringService } from '../crypto/keyring.service';
import { HttpMetrics } from '../metrics/http-metrics';

export const API_PREFIX = 'api/v1';
/** Outside the prefix: the Vault compatibility API (src/vault-compat), where Vault clients call. */
export const VAULT_PREFIX = 'v1';
const API_PATH = `/${API_PREFIX}/`;
const HEALTH_PATH = `/${API_PREFIX}/health/`;

export interface HookDeps {
  keyring: KeyringService;
  metrics: HttpMetrics;
  audit: HttpAuditRecorder;
  auth: AuthGuard;
  /** helmet's headers, worked out at start-up. */
  securityHeaders: Record<string, string>;
}

/**
 * Hooks at the Fastify level, because they must also see requests that never reach a Nest
 * handler (unknown routes, bodies refused by the parser) and must act before any of them.
 */
export function registerFastifyHooks(fastify: FastifyInstance, deps: HookDeps): void {
  deps.audit.identifyCallersWith((request) => deps.auth.identifyForAudit(request));

  fastify.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    deps.audit.attach(request);
    // Sealed: answer before routing, parsing or any handler, so nothing can be written.
    const status = deps.keyring.sealStatus();
    if (status.sealed && request.url.startsWith(API_PATH) && !request.url.startsWith(HEALTH_PATH)) {
      await reply
        .status(503)
        .header('retry-after', '30')
        .send({
          statusCode: 503,
          error: 'Service Unavailable',
          message: `Custos is sealed: ${status.reason}`,
          requestId: String(request.id),
        });
    }
  });

  // Runs once in-flight requests are done and before Nest closes the database pool.
  fastify.addHook('onClose', async () => {
    await deps.audit.drain();
  });

  fastify.addHook('onSend', async (request: FastifyRequest, reply: FastifyReply) => {
    void reply.header(REQUEST_ID_HEADER, String(request.id));
  });

  fastify.addHook('onResponse', async (request: FastifyRequest, reply: FastifyReply) => {
    // Requests refused before a handler ran (routing, body parsing, guards) are recorded here;
    // while sealed nothing can be written, the refusal itself is the answer.
    if (!deps.keyring.isSealed()) deps.audit.recordAfterResponse(request, reply.statusCode);
    const route = request.routeOptions.url ?? 'unmatched';
    deps.metrics.observe(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
  });
}

/**
 * Fastify's `frameworkErrors`: the router refuses a malformed URL (`%zz`, 400) or an over-long
 * parameter (414) before any hook runs, so none of the above applies to it. It gets the same
 * answer as any other error, with its request id, and its audit event. `deps` is undefined only
 * while the app is being built, before it serves anything.
 */
export function answerFrameworkError(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
  deps: HookDeps | undefined,
): void {
  const body = { ...toErrorBody(error), requestId: String(request.id) };
  void reply
    .headers(deps?.securityHeaders ?? { 'x-content-type-options': 'nosniff' })
    .status(body.statusCode)
    .header(REQUEST_ID_HEADER, body.requestId)
    .header('content-type', 'application/json; charset=utf-8')
    .send(body);
  if (!deps) return;
  deps.metrics.observe(request.method, 'unmatched', body.statusCode, 0);
  if (deps.keyring.isSealed()) return;
  deps.audit.attach(request);
  deps.audit.recordAfterResponse(request, body.statusCode);
}
