import { INestApplication, Type } from '@nestjs/common';
import { PATH_METADATA, ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import { ModulesContainer } from '@nestjs/core';
import type { OpenAPIObject } from '@nestjs/swagger';
import { getMetadataStorage } from 'class-validator';
import { IS_PUBLIC, LOGIN_THROTTLED } from '../common/auth/auth.decorators';
import { errorExample } from '../common/errors/error-response.dto';
import { UUID_V4 } from '../common/http/uuid-param';
import { MAX_PATH_LENGTH } from '../auth/grants/path-pattern';
import { OUTBOUND_URL_MAX } from '../outbound/is-outbound-url';
import { PAGE_CURSOR_MAX_LENGTH } from '../common/pagination/page-cursor';
import { TYPE_PATTERN_MAX_LENGTH } from '../events/event-type-filter';

/**
 * What every route has in common, added to the OpenAPI document in one place so that each new
 * controller inherits it: the error answers every route can give, the rate-limit headers the
 * throttler sets, and the limits the request validation enforces (class-validator decorators and
 * the UUID pipe), which @nestjs/swagger does not read by itself. Nothing here changes a route;
 * it only says what the routes already do.
 */
export function applyOpenApiConventions(app: INestApplication, document: OpenAPIObject): void {
  const handlers = handlersByOperationId(app);
  const schemas = (document.components?.schemas ?? {}) as Record<string, Json>;
  document.components ??= {};
  document.components.headers = { ...document.components.headers, ...RATE_LIMIT_HEADERS };

  for (const [name, schema] of Object.entries(schemas)) {
    const target = validatedClasses().get(name);
    if (target) applyValidation(target, schema);
  }
  for (const [path, methods] of Object.entries(document.paths)) {
    for (const [method, value] of Object.entries(methods as Record<string, unknown>)) {
      if (!HTTP_METHODS.has(method)) continue;
      const operation = value as Operation;
      const handler = handlers.get(operation.operationId ?? '');
      documentParameters(operation, handler);
      for (const parameter of operation.parameters ?? []) {
        // Fastify's router refuses longer path segments (maxParamLength) before any handler; a
        // wildcard (`*`, the rest of the URL) is not bound by it.
        if (
          parameter.in === 'path' &&
          parameter.schema?.type === 'string' &&
          !isWildcardRoute(handler)
        ) {
          parameter.schema.maxLength ??= FASTIFY_MAX_PARAM_LENGTH;
        }
      }
      documentErrors(operation, path, handler);
      documentRateLimits(operation, handler);
    }
  }
  boundPages(document, schemas);
  applyFormatLimits(schemas);
  applyFormatLimits(document.paths);
}

type Json = Record<string, unknown>;

/** The parts of class-validator's (unexported) ValidationMetadata read here. */
type ValidationMetadata = ReturnType<
  ReturnType<typeof getMetadataStorage>['getTargetValidationMetadatas']
>[number];

interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  schema?: Json;
}

interface Response {
  description?: string;
  headers?: Record<string, unknown>;
  content?: Record<string, { schema?: unknown; example?: unknown }>;
}

interface Operation {
  operationId?: string;
  parameters?: Parameter[];
  requestBody?: unknown;
  responses: Record<string, Response>;
  security?: unknown[];
  'x-custos-public'?: boolean;
}

interface Handler {
  controller: Type<unknown>;
  method: string;
}

const HTTP_METHODS = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options']);

/** Any UUID is 36 characters; a date-time as RFC 3339 writes it at most 35. */
const UUID_SCHEMA = { format: 'uuid', maxLength: 36 };
const DATE_TIME_MAX_LENGTH = 35;
/** find-my-way's default, which createApp keeps. */
const FASTIFY_MAX_PARAM_LENGTH = 100;

/** As @nestjs/throttler sends them on every throttled answer (suffixed `-login` for login). */
const RATE_LIMIT_HEADERS: Record<string, Json> = {
  'X-RateLimit-Limit': {
    description: 'Requests allowed per window for this client IP and route (THROTTLE_LIMIT)',
    schema: { type: 'integer', format: 'int32', minimum: 0, maximum: 2147483647 },
  },
  'X-RateLimit-Remaining': {
    description: 'Requests left in the current window',
    schema: { type: 'integer', format: 'int32', minimum: 0, maximum: 2147483647 },
  },
  'X-RateLimit-Reset': {
    description: 'Seconds until the current window ends',
    schema: { type: 'integer', format: 'int32', minimum: 0, maximum: 2147483647 },
  },
  'Retry-After': {
    description: 'Seconds to wait before trying again',
    schema: { type: 'integer', format: 'int32', minimum: 0, maximum: 2147483647 },
  },
};

const headerRef = (name: string) => ({ $ref: `#/components/headers/${name}` });

/** `<Controller>_<method>`, the operation ids @nestjs/swagger makes, to the handler behind them. */
function handlersByOperationId(app: INestApplication): Map<string, Handler> {
  const handlers = new Map<string, Handler>();
  for (const module of app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.metatype as Type<unknown> | null;
      if (!controller?.prototype) continue;
      for (const method of Object.getOwnPropertyNames(controller.prototype)) {
        if (method !== 'constructor') {
          handlers.set(`${controller.name}_${method}`, { controller, method });
        }
      }
    }
  }
  return handlers;
}

function metadataOf<T>(key: string, { controller, method }: Handler): T | undefined {
  const fn = (controller.prototype as Record<string, unknown>)[method] as object;
  return (Reflect.getMetadata(key, fn) ?? Reflect.getMetadata(key, controller)) as T | undefined;
}

interface RouteArgument {
  index: number;
  data?: unknown;
  pipes?: unknown[];
}

/** Path parameters checked by the UUID pipe, and query parameters by their DTO's validators. */
function documentParameters(operation: Operation, handler: Handler | undefined): void {
  if (!handler) return;
  const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, handler.controller, handler.method) ??
    {}) as Record<string, RouteArgument>;
  const types = (Reflect.getMetadata(
    'design:paramtypes',
    handler.controller.prototype as object,
    handler.method,
  ) ?? []) as unknown[];
  for (const [key, arg] of Object.entries(args)) {
    const kind = Number(key.split(':')[0]) as RouteParamtypes;
    if (kind === RouteParamtypes.PARAM && arg.pipes?.includes(UUID_V4)) {
      const parameter = operation.parameters?.find((p) => p.in === 'path' && p.name === arg.data);
      if (parameter) parameter.schema = { ...parameter.schema, type: 'string', ...UUID_SCHEMA };
    }
    if (kind === RouteParamtypes.QUERY && arg.data === undefined) {
      const dto = types[arg.index];
      if (typeof dto !== 'function') continue;
      const byProperty = propertyValidations(dto);
      for (const parameter of operation.parameters ?? []) {
        const rules = parameter.in === 'query' ? byProperty.get(parameter.name) : undefined;
        if (rules && parameter.schema) applyRules(parameter.schema, rules);
      }
    }
  }
}

/** The error answers of every route, in the common shape, where the route does not say more. */
function documentErrors(operation: Operation, path: string, handler: Handler | undefined): void {
  const open =
    operation['x-custos-public'] === true ||
    (handler !== undefined && metadataOf<boolean>(IS_PUBLIC, handler) === true);
  const takesInput =
    operation.requestBody !== undefined ||
    (operation.parameters ?? []).some((p) => p.in === 'path' || p.in === 'query');
  const statuses: [number, string, string][] = [
    [500, 'Internal error; details only in the server log', 'Internal server error'],
    [503, 'Sealed or not ready', 'Custos is sealed: no master key configured'],
  ];
  if (!open) statuses.push([401, 'Not authenticated', 'Authentication required']);
  if (takesInput) {
    statuses.push([
      400,
      'Invalid input; `fields` lists what was wrong',
      'Validation failed: limit (limit must not be greater than 500)',
    ]);
  }
  if (!isUnthrottled(handler)) {
    statuses.push([429, 'Too many requests; see Retry-After', 'Too many requests, retry later']);
  }
  for (const [status, description, message] of statuses) {
    if (operation.responses[status] || (status === 503 && path.includes('/health/'))) continue;
    operation.responses[status] = {
      description,
      content: {
        'application/json': {
          schema: { $ref: '#/components/schemas/ErrorResponseDto' },
          example: errorExample(status, message),
        },
      },
    };
  }
}

function isWildcardRoute(handler: Handler | undefined): boolean {
  if (!handler) return true;
  const route = metadataOf<string | string[]>(PATH_METADATA, handler);
  return [route ?? []].flat().some((path) => path.includes('*'));
}

function isUnthrottled(handler: Handler | undefined): boolean {
  // @SkipThrottle() (health, metrics): the throttler neither counts nor answers these routes.
  return handler !== undefined && metadataOf<boolean>('THROTTLER:SKIPdefault', handler) === true;
}

/** The headers the throttler sets on every answer it lets through, and Retry-After on 429. */
function documentRateLimits(operation: Operation, handler: Handler | undefined): void {
  if (isUnthrottled(handler)) return;
  const login = handler !== undefined && metadataOf<boolean>(LOGIN_THROTTLED, handler) === true;
  for (const [status, response] of Object.entries(operation.responses)) {
    if (!/^[24]/.test(status)) continue;
    const headers: Record<string, unknown> = { ...response.headers };
    for (const name of ['X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset']) {
      headers[name] ??= headerRef(name);
      if (login) headers[`${name}-login`] ??= headerRef(name);
    }
    if (status === '429') headers['Retry-After'] ??= headerRef('Retry-After');
    response.headers = headers;
  }
}

let validated: Map<string, Type<unknown>> | undefined;

/** Every class with class-validator decorators, by name (the name @nestjs/swagger gives it). */
function validatedClasses(): Map<string, Type<unknown>> {
  if (validated) return validated;
  const storage = getMetadataStorage() as unknown as {
    validationMetadatas?: Map<Type<unknown>, ValidationMetadata[]>;
  };
  validated = new Map();
  for (const target of storage.validationMetadatas?.keys() ?? []) {
    if (typeof target === 'function') validated.set(target.name, target);
  }
  return validated;
}

function propertyValidations(target: unknown): Map<string, ValidationMetadata[]> {
  const rules = getMetadataStorage().getTargetValidationMetadatas(
    target as Type<unknown>,
    '',
    true,
    false,
  );
  const byProperty = new Map<string, ValidationMetadata[]>();
  for (const rule of rules) {
    byProperty.set(rule.propertyName, [...(byProperty.get(rule.propertyName) ?? []), rule]);
  }
  return byProperty;
}

function applyValidation(target: Type<unknown>, schema: Json): void {
  const properties = (schema.properties ?? {}) as Record<string, Json>;
  for (const [name, rules] of propertyValidations(target)) {
    if (properties[name]) applyRules(properties[name], rules);
  }
}

/** One validator's limit as JSON Schema keywords (what the validator accepts, no more). */
const LIMITS: Record<string, (constraints: unknown[]) => Json | undefined> = {
  maxLength: ([max]) => ({ maxLength: max }),
  minLength: ([min]) => ({ minLength: min }),
  isLength: ([min, max]) => ({ minLength: min, ...(max === undefined ? {} : { maxLength: max }) }),
  isUuid: () => UUID_SCHEMA,
  // validator.js refuses addresses longer than 254 characters. No `format: email`: ours may
  // have no TLD (admin@localhost).
  isEmail: () => ({ maxLength: 254 }),
  isIso8601: () => ({ format: 'date-time', maxLength: DATE_TIME_MAX_LENGTH }),
  matches: ([pattern]) => (pattern instanceof RegExp ? regexLimits(pattern) : undefined),
  isCredentialPath: () => ({ maxLength: MAX_PATH_LENGTH }),
  isPathPattern: () => ({ maxLength: MAX_PATH_LENGTH }),
  isOutboundUrl: () => ({ format: 'uri', maxLength: OUTBOUND_URL_MAX }),
  isPageCursor: () => ({ pattern: '^[A-Za-z0-9_-]+$', maxLength: PAGE_CURSOR_MAX_LENGTH }),
  isTypePattern: () => ({ maxLength: TYPE_PATTERN_MAX_LENGTH }),
  isWebhookEventPattern: () => ({ maxLength: TYPE_PATTERN_MAX_LENGTH }),
  max: ([max]) => ({ maximum: max }),
  min: ([min]) => ({ minimum: min }),
  arrayMaxSize: ([max]) => ({ maxItems: max }),
  arrayMinSize: ([min]) => ({ minItems: min }),
};

function applyRules(schema: Json, rules: ValidationMetadata[]): void {
  for (const rule of rules) {
    const limit = LIMITS[rule.name ?? '']?.(rule.constraints ?? []);
    if (!limit) continue;
    let into = schema;
    if ('maxItems' in limit || 'minItems' in limit) {
      if (schema.type !== 'array') continue;
    } else if (schema.type === 'array') {
      if (!rule.each || !isObject(schema.items)) continue;
      into = schema.items;
    }
    for (const [keyword, value] of Object.entries(limit)) into[keyword] ??= value;
  }
  // Unique items out of a fixed list: never more items than the list has.
  const allowed: unknown = rules.find((rule) => rule.name === 'isIn' && rule.each)
    ?.constraints?.[0];
  if (
    schema.type === 'array' &&
    Array.isArray(allowed) &&
    rules.some((rule) => rule.name === 'arrayUnique')
  ) {
    schema.maxItems ??= allowed.length;
  }
}

/** A page (`{items, nextCursor}`) never holds more items than its list's `limit` allows. */
function boundPages(document: OpenAPIObject, schemas: Record<string, Json>): void {
  for (const methods of Object.values(document.paths)) {
    for (const value of Object.values(methods as Record<string, unknown>)) {
      if (!isObject(value) || !isObject(value.responses)) continue;
      const operation = value as unknown as Operation;
      const limit = operation.parameters?.find((p) => p.in === 'query' && p.name === 'limit');
      const maximum = limit?.schema?.maximum;
      const ref = operation.responses['200']?.content?.['application/json']?.schema;
      if (typeof maximum !== 'number' || !isObject(ref) || typeof ref.$ref !== 'string') continue;
      const page = schemas[ref.$ref.replace('#/components/schemas/', '')];
      const items = isObject(page?.properties) ? page.properties.items : undefined;
      if (isObject(items) && items.type === 'array' && isObject(page.properties)) {
        items.maxItems = Math.max(Number(items.maxItems ?? 0), maximum);
      }
    }
  }
}

/**
 * A pattern as the validator checks it, and its longest match when that is bounded: anchored
 * sequences of characters, escapes and classes with `?` or `{n}`/`{n,m}`, as most of ours are.
 */
export function regexLimits(pattern: RegExp): Json | undefined {
  // JSON Schema patterns are ECMA-262 without flags; a flagged one is only partly expressible.
  if (pattern.flags.replace('u', '') !== '') return undefined;
  const maxLength = longestMatch(pattern.source);
  return { pattern: pattern.source, ...(maxLength === undefined ? {} : { maxLength }) };
}

function longestMatch(source: string): number | undefined {
  const body = /^\^(.*)\$$/s.exec(source)?.[1];
  return body === undefined ? undefined : longest(body);
}

/** The longest string `source` (no anchors) matches, or undefined when unbounded or unread. */
function longest(source: string): number | undefined {
  const alternatives = splitTopLevel(source);
  if (alternatives.length > 1) {
    const lengths = alternatives.map(longest);
    return lengths.some((n) => n === undefined) ? undefined : Math.max(...(lengths as number[]));
  }
  let total = 0;
  for (let i = 0; i < source.length;) {
    let end: number;
    let atom: number | undefined = 1;
    if (source[i] === '\\') end = i + 2;
    else if (source[i] === '[') end = closingBracket(source, i) + 1;
    else if (source[i] === '(') {
      end = closingParen(source, i) + 1;
      const inner = source.slice(i + 1, end - 1);
      // Only plain and non-capturing groups; lookarounds and named groups are not read.
      if (inner.startsWith('?') && !inner.startsWith('?:')) return undefined;
      atom = longest(inner.startsWith('?:') ? inner.slice(2) : inner);
    } else if ('*+{}?)|'.includes(source[i])) return undefined;
    else end = i + 1;
    if (end <= i || end > source.length || atom === undefined) return undefined;
    const rest = source.slice(end);
    const quantifier = /^(?:\{(\d+)(?:,(\d+))?\}|\?)/.exec(rest);
    if (!quantifier && /^[*+{]/.test(rest)) return undefined;
    const count = !quantifier || quantifier[0] === '?' ? 1 : Number(quantifier[2] ?? quantifier[1]);
    total += atom * count;
    i = end + (quantifier?.[0].length ?? 0);
  }
  return total;
}

function closingBracket(source: string, open: number): number {
  let i = open + 1;
  while (i < source.length && source[i] !== ']') i += source[i] === '\\' ? 2 : 1;
  return i < source.length ? i : -1;
}

function closingParen(source: string, open: number): number {
  let depth = 0;
  for (let i = open; i < source.length; i++) {
    if (source[i] === '\\') i++;
    else if (source[i] === '[') i = closingBracket(source, i);
    else if (source[i] === '(') depth++;
    else if (source[i] === ')' && --depth === 0) return i;
    if (i < 0) return -1;
  }
  return -1;
}

function splitTopLevel(source: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let from = 0;
  for (let i = 0; i < source.length; i++) {
    if (source[i] === '\\') i++;
    else if (source[i] === '[') i = Math.max(closingBracket(source, i), i);
    else if (source[i] === '(') depth++;
    else if (source[i] === ')') depth--;
    else if (source[i] === '|' && depth === 0) {
      parts.push(source.slice(from, i));
      from = i + 1;
    }
  }
  return [...parts, source.slice(from)];
}

/** Strings whose format bounds their length say so (a UUID, a date-time), at any depth. */
function applyFormatLimits(schema: unknown): void {
  if (Array.isArray(schema)) {
    schema.forEach(applyFormatLimits);
    return;
  }
  if (!isObject(schema)) return;
  if (schema.type === 'string' && schema.maxLength === undefined) {
    if (schema.format === 'uuid') schema.maxLength = UUID_SCHEMA.maxLength;
    if (schema.format === 'date-time') schema.maxLength = DATE_TIME_MAX_LENGTH;
  }
  Object.values(schema).forEach(applyFormatLimits);
}

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
