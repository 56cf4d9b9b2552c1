import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyRequest } from 'fastify';
import { RequestValidationError } from '../common/validation/request-validation.error';

export interface JsonShapeLimits {
  /** Levels of objects and arrays: `{}` is 1, `{"a": []}` is 2. */
  maxDepth: number;
  /** Object keys and array items, counted over the whole body. */
  maxEntries: number;
}

/**
 * Far above what any route takes (a credential with full metadata is under 10 levels and a few
 * hundred entries), far below what hurts: class-transformer and class-validator recurse once per
 * level and overflow the stack at a few thousand, which a 14 KB body reaches.
 */
export const JSON_BODY_LIMITS: JsonShapeLimits = { maxDepth: 32, maxEntries: 10_000 };

/**
 * Why a parsed JSON value is too deep or too large to hand to the validation pipe, or undefined.
 * Iterative, so no body can overflow the stack here either; it stops at the first level or
 * entry over a limit.
 */
export function jsonShapeProblem(
  value: unknown,
  limits: JsonShapeLimits = JSON_BODY_LIMITS,
): string | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const tooMany = `the body has more than ${limits.maxEntries} keys and array items`;
  const pending: object[] = [value];
  const depths: number[] = [1];
  let entries = 0;
  // Indexed loops and for-in rather than Object.values(): no array per object, and about a
  // tenth of what JSON.parse spent on the same body (measured on a typical credential).
  while (pending.length > 0) {
    const node = pending.pop()!;
    const depth = depths.pop()!;
    if (depth > limits.maxDepth) return `the body is nested deeper than ${limits.maxDepth} levels`;
    if (Array.isArray(node)) {
      entries += node.length;
      if (entries > limits.maxEntries) return tooMany;
      for (let i = 0; i < node.length; i++) {
        const child: unknown = node[i];
        if (child !== null && typeof child === 'object') {
          pending.push(child);
          depths.push(depth + 1);
        }
      }
      continue;
    }
    // JSON.parse makes plain objects: no inherited enumerable keys to skip.
    for (const key in node) {
      if (++entries > limits.maxEntries) return tooMany;
      const child = (node as Record<string, unknown>)[key];
      if (child !== null && typeof child === 'object') {
        pending.push(child);
        depths.push(depth + 1);
      }
    }
  }
  return undefined;
}

type Done = (error: Error | null, body?: unknown) => void;
type JsonParser = (request: FastifyRequest, body: Buffer, done: Done) => void;

/**
 * Fastify's own JSON parser (secure-json-parse: `__proto__` and constructor poisoning refused),
 * with two changes. An empty body is no body, so a route that takes none accepts a client that
 * always sends `content-type: application/json`, and one that needs a body says which fields are
 * missing. A body too deep or too large is refused with a 400 before anything recurses into it.
 */
export function jsonBodyParser(parse: JsonParser, limits = JSON_BODY_LIMITS): JsonParser {
  return (request, body, done) => {
    if (body.length === 0) {
      done(null, undefined);
      return;
    }
    parse(request, body, (error, value) => {
      if (error) {
        done(error);
        return;
      }
      const problem = jsonShapeProblem(value, limits);
      if (problem) done(new RequestValidationError([{ field: '(body)', errors: [problem] }]));
      else done(null, value);
    });
  };
}

/** Installs the parser on an app before it is initialised (Nest then adds no JSON parser of its own). */
export function useJsonBodyParser(app: NestFastifyApplication, bodyLimit?: number): void {
  const fastify = app.getHttpAdapter().getInstance();
  const parse = fastify.getDefaultJsonParser('error', 'error') as unknown as JsonParser;
  app.useBodyParser('application/json', bodyLimit ? { bodyLimit } : {}, jsonBodyParser(parse));
}
