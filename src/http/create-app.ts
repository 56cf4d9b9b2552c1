import { RequestMethod, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { Logger, PinoLogger } from 'nestjs-pino';
import { AppModule } from '../app.module';
import { HttpAuditRecorder } from '../audit/http/http-audit-recorder';
import { AuthGuard } from '../auth/guards/auth.guard';
import { requestIdFor } from '../common/http/request-id';
import { loadAppConfig } from '../config/app.config';
import { registerRequestLogging } from '../logging/request-logging';
import { KeyringService } from '../crypto/keyring.service';
import { HttpMetrics } from '../metrics/http-metrics';
import {
  answerFrameworkError,
  API_PREFIX,
  HookDeps,
  registerFastifyHooks,
  VAULT_PREFIX,
} from './fastify-hooks';
import { useJsonBodyParser } from './json-body';
import { registerSecurityHeaders } from './security-headers';
import { setupSwagger } from './swagger';

/**
 * Builds the HTTP application exactly as production runs it; tests call this too, so what they
 * check is what ships. `rootModule` lets a test add probe routes around the real AppModule.
 */
export async function createApp(
  rootModule: Type<unknown> = AppModule,
): Promise<NestFastifyApplication> {
  const config = loadAppConfig(process.env);
  // Filled in once the app exists; the router needs the handler before that.
  const hooks: { deps?: HookDeps } = {};
  const adapter = new FastifyAdapter({
    bodyLimit: config.bodyLimit,
    trustProxy: config.trustProxy,
    genReqId: requestIdFor,
    requestIdHeader: false,
    return503OnClosing: true,
    frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) =>
      answerFrameworkError(error, request, reply, hooks.deps),
  });
  const app = await NestFactory.create<NestFastifyApplication>(rootModule, adapter, {
    bufferLogs: true,
    // Start-up errors reach the caller (main prints them) instead of exiting the process here.
    abortOnError: false,
  });
  app.useLogger(app.get(Logger));
  app.flushLogs();

  useJsonBodyParser(app, config.bodyLimit);
  app.setGlobalPrefix(API_PREFIX, {
    exclude: [
      { path: 'metrics', method: RequestMethod.GET },
      // The Vault compatibility API lives where Vault clients look for it.
      { path: `${VAULT_PREFIX}/{*splat}`, method: RequestMethod.ALL },
    ],
  });
  const securityHeaders = registerSecurityHeaders(app.getHttpAdapter().getInstance(), {
    // Swagger UI needs inline styles; scripts stay same-origin.
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        scriptSrc: ["'self'"],
        // Plain-HTTP installs (behind a TLS proxy or on a LAN) must still load the docs' assets.
        upgradeInsecureRequests: null,
      },
    },
  });
  if (config.corsOrigins.length > 0) {
    const anyOrigin = config.corsOrigins.includes('*');
    // Never "*" together with credentials: any origin means no cookies or auth headers shared.
    app.enableCors({ origin: anyOrigin ? '*' : config.corsOrigins, credentials: !anyOrigin });
  }
  registerRequestLogging(app.getHttpAdapter().getInstance(), PinoLogger.root);
  hooks.deps = {
    keyring: app.get(KeyringService),
    metrics: app.get(HttpMetrics),
    audit: app.get(HttpAuditRecorder),
    auth: app.get(AuthGuard),
    securityHeaders,
  };
  registerFastifyHooks(app.getHttpAdapter().getInstance(), hooks.deps);
  setupSwagger(app);
  return app;
}
