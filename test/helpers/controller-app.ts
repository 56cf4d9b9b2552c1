import { ModuleMetadata, RequestMethod } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { ThrottlerModule } from '@nestjs/throttler';
import type { FastifyRequest } from 'fastify';
import { AuditRequestContext } from '../../src/audit/audit-context';
import type { Principal } from '../../src/common/auth/principal';
import { AllExceptionsFilter } from '../../src/common/errors/all-exceptions.filter';
import { createValidationPipe } from '../../src/common/validation/validation-pipe';
import { useJsonBodyParser } from '../../src/http/json-body';

/** A mock that fails the test when called without an arranged answer. */
export function strictFn(name: string): jest.Mock {
  return jest.fn(() => {
    throw new Error(`unexpected call to ${name}`);
  });
}

/** The body the real validation pipe and exception filter answer for a rejected request. */
export const VALIDATION_ERROR = {
  statusCode: 400,
  error: 'Bad Request',
  message: expect.stringMatching(/^Validation failed: /),
  requestId: expect.any(String),
  fields: expect.any(Array),
};

export interface ControllerAppOptions {
  /**
   * Runs on the new app before the global prefix is set and the app initialised, e.g. to add a
   * Fastify hook standing in for the global guards and interceptors the e2e tests cover.
   */
  beforeInit?: (app: NestFastifyApplication) => void | Promise<void>;
  /** Routes kept outside the `api/v1` prefix, as create-app keeps `metrics` and `v1/…`. */
  prefixExclude?: string[];
}

/**
 * A Fastify app for controller tests: the given module with the real JSON body parser, validation
 * pipe and exception filter, no logger, under the `api/v1` prefix, initialised and ready for
 * `inject`.
 */
export async function createControllerApp(
  metadata: ModuleMetadata,
  options: ControllerAppOptions = {},
): Promise<NestFastifyApplication> {
  const moduleRef = await Test.createTestingModule({
    ...metadata,
    // What route guards such as RevealThrottled's need; no limit (e2e tests prove the limits).
    imports: [...(metadata.imports ?? []), ThrottlerModule.forRoot([])],
    providers: [
      ...(metadata.providers ?? []),
      { provide: APP_PIPE, useFactory: createValidationPipe },
      { provide: APP_FILTER, useClass: AllExceptionsFilter },
    ],
  }).compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), {
    logger: false,
  });
  try {
    await options.beforeInit?.(app);
    useJsonBodyParser(app);
    app.setGlobalPrefix('api/v1', {
      exclude: (options.prefixExclude ?? []).map((path) => ({ path, method: RequestMethod.ALL })),
    });
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  } catch (error) {
    // The caller never gets the app to close in its afterAll, so close it here.
    await app.close().catch(() => undefined);
    throw error;
  }
  return app;
}

/**
 * A `beforeInit` standing in for the audit capture and the global AuthGuard, which the e2e tests
 * cover: each request is made by `principal()` and gets a fresh audit context, handed to
 * `onContext` so a test can check what the controller passed on.
 */
export function actingAs(
  principal: () => Principal,
  onContext: (context: AuditRequestContext) => void = () => undefined,
): (app: NestFastifyApplication) => void {
  return (app) => {
    app
      .getHttpAdapter()
      .getInstance()
      .addHook('onRequest', async (request: FastifyRequest) => {
        request.auditContext = new AuditRequestContext(String(request.id), '127.0.0.1', 'jest');
        request.principal = principal();
        onContext(request.auditContext);
        await Promise.resolve();
      });
  };
}
