import { pathOnly } from '../common/http/url-path';
import { RequestMethod } from '@nestjs/common';
import type { Params } from 'nestjs-pino';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AppConfig } from '../config/app.config';
import { redactDeep } from './redact';

type RawRequest = IncomingMessage & { id?: string; ip?: string; originalUrl?: string };
/** What pino-http hands a custom req serializer: its own view of the request, raw beside it. */
interface SerializedRequest {
  method?: string;
  url?: string;
  headers: Record<string, unknown>;
  remoteAddress?: string;
  raw?: RawRequest;
}

/** JSON logs with the request id on every line and secrets redacted at any depth. */
export function loggerOptions(app: AppConfig): Params {
  return {
    forRoutes: [{ path: '{*splat}', method: RequestMethod.ALL }],
    pinoHttp: {
      level: app.logLevel,
      // Fastify has already chosen the id (see request-id.ts); log lines use the same one.
      genReqId: (request: IncomingMessage) => (request as RawRequest).id ?? 'unknown',
      // Every line logged while serving a request carries its id, the completion line too.
      quietReqLogger: true,
      customAttributeKeys: { reqId: 'requestId' },
      // Probes every few seconds would drown the log; middie rewrites url, originalUrl is whole.
      autoLogging: {
        ignore: (request: IncomingMessage) =>
          /\/health\/(live|ready)$/.test((request as RawRequest).originalUrl ?? request.url ?? ''),
      },
      serializers: {
        req: (request: SerializedRequest) => ({
          method: request.method,
          url: pathOnly(request.url),
          remoteAddress: request.raw?.ip ?? request.remoteAddress,
          headers: redactDeep(request.headers),
        }),
        res: (response: ServerResponse & { statusCode: number }) => ({
          statusCode: response.statusCode,
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
