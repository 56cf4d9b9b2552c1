import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import helmet, { HelmetOptions } from 'helmet';
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * The headers helmet sets for these options, worked out once. @fastify/helmet builds a new helmet
 * middleware, parsing the CSP directives again, on every request (~4% of the CPU of a service
 * read); with no CSP nonces the headers never change, so they are computed here at start-up and
 * only copied onto each reply. helmet still decides what they are.
 */
export function securityHeaders(options: HelmetOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  const response = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
    },
    removeHeader(name: string) {
      delete headers[name.toLowerCase()];
    },
  };
  // helmet reports a middleware's failure through next(); it never fails with these options.
  let failed = false;
  const next = (error?: unknown) => void (failed = error !== undefined);
  helmet(options)({} as IncomingMessage, response as unknown as ServerResponse, next);
  if (failed) throw new Error('helmet could not work out the security headers');
  return headers;
}

/**
 * Sets the headers on every reply before routing, so 404s and refusals carry them too, and
 * returns them for the answers the router gives before any hook runs (malformed URLs).
 */
export function registerSecurityHeaders(
  fastify: FastifyInstance,
  options: HelmetOptions,
): Record<string, string> {
  const computed = securityHeaders(options);
  const headers = Object.entries(computed);
  fastify.addHook('onRequest', (_request: FastifyRequest, reply: FastifyReply, done) => {
    for (const [name, value] of headers) reply.raw.setHeader(name, value);
    done();
  });
  return computed;
}
