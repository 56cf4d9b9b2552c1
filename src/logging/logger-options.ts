import { pathOnly } from '../common/http/url-path';
import type { Params } from 'nestjs-pino';
import { AppConfig } from '../config/app.config';
import { redactDeep } from './redact';
import { LoggedRequest, requestIdMixin } from './request-logging';

/**
 * JSON logs with the request id on every line and secrets redacted at any depth. Requests are
 * logged by Fastify hooks (request-logging.ts), so nestjs-pino mounts no middleware: the logger
 * module only builds the root logger that Nest's Logger writes to.
 */
export function loggerOptions(app: AppConfig): Params {
  return {
    forRoutes: [],
    pinoHttp: {
      level: app.logLevel,
      mixin: requestIdMixin,
      // The serializers get what request-logging.ts logs, not raw Node objects.
      wrapSerializers: false,
      serializers: {
        req: (request: LoggedRequest) => ({
          method: request.method,
          url: pathOnly(request.url),
          remoteAddress: request.remoteAddress,
          headers: redactDeep(request.headers),
        }),
      },
      formatters: {
        log: redactLogObject,
      },
    },
  };
}

/**
 * pino applies serializers after this formatter, so req, res and err are left to their own
 * serializers (which redact headers); everything else a log call carries is redacted here.
 */
function redactLogObject(object: Record<string, unknown>): Record<string, unknown> {
  const { req, res, err, ...rest } = object;
  return { ...(redactDeep(rest) as Record<string, unknown>), ...definedOnly({ req, res, err }) };
}

function definedOnly(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
}
