import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { API_KEY_SCHEME, JWT_SCHEME, VAULT_TOKEN_SCHEME } from '../common/http/openapi-schemes';
import { applyOpenApiConventions } from './openapi-conventions';

/** What each tag holds, in the order Swagger UI lists them; a tag not named here sorts last. */
const TAGS: Record<string, string> = {
  auth: 'Log in, refresh and end sessions, change the password, TOTP',
  users: 'People and their roles (admin)',
  'service-accounts': 'Services and their API keys (admin)',
  grants: 'Path-scoped capabilities for users and service accounts (admin)',
  credentials: 'Stored credentials: metadata, versions, the audited reveal',
  secrets: 'Reveal by path, for services',
  rotation: 'Rotation policies, rotate now, runs and schedules',
  rotations: 'Rotation runs across credentials',
  incidents: 'Security incidents: workflow, scope, containment, blast radius',
  'leak scan': 'Which stored secrets appear in a text',
  audit: 'The tamper-evident audit log: query, export, verify, checkpoints',
  events: 'Rotation and credential events for services (Server-Sent Events)',
  webhooks: 'Signed event subscriptions',
  keys: 'Master key status and rotation (admin)',
  health: 'Liveness and readiness probes',
  'vault-compat': 'Vault KV v2 compatibility under /v1, for existing Vault clients',
};

export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Custos')
    .setDescription(
      'Self-hosted credentials vault. Errors are `{statusCode, error, message, requestId}`; ' +
        'every response carries `X-Request-Id`. Requests are throttled per client IP and route ' +
        '(`X-RateLimit-*` headers; 429 with `Retry-After` beyond the limit).',
    )
    .setVersion('0.1.0')
    // Relative: the instance serving this document, over the scheme it was reached by (HTTPS in
    // production, behind TLS or a proxy that terminates it).
    // x-internal: for the people and services of the organisation that runs it, not the public.
    .addServer('/', 'This Custos instance (local, staging or production alike)', undefined, {
      'x-internal': true,
    })
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'JWT',
        description:
          'Access token from POST /auth/login: a short-lived JWS following the RFC8725 best ' +
          'practices (algorithm pinned to HS256, issuer, audience and expiry checked)',
      },
      JWT_SCHEME,
    )
    .addApiKey(
      {
        type: 'apiKey',
        in: 'header',
        name: 'X-API-Key',
        description: 'Service API key, `cus_<id>_<secret>`, from POST /service-accounts/{id}/keys',
      },
      API_KEY_SCHEME,
    )
    .addApiKey(
      {
        type: 'apiKey',
        in: 'header',
        name: 'X-Vault-Token',
        description:
          'The /v1 Vault compatibility routes: an API key, an access token, or a token from ' +
          'POST /v1/auth/approle/login. Vault clients send LIST, which this document shows as ' +
          'GET …/metadata/{path}?list=true',
      },
      VAULT_TOKEN_SCHEME,
    )
    .build();
  // Set here: the builder's setters always write a url (and an email), empty ones included.
  config.info.contact = { name: 'The operators of this Custos instance' };
  config.info.license = { name: 'UNLICENSED (private)' };
  const document = SwaggerModule.createDocument(app, config);
  const used = new Set(
    Object.values(document.paths).flatMap((methods) =>
      Object.values(methods as Record<string, { tags?: string[] }>).flatMap((op) => op.tags ?? []),
    ),
  );
  const order = Object.keys(TAGS);
  document.tags = [...used]
    .sort((a, b) => rank(order, a) - rank(order, b) || a.localeCompare(b))
    .map((name) => ({ name, description: TAGS[name] ?? name }));
  applyOpenApiConventions(app, document);
  return document;
}

function rank(order: string[], tag: string): number {
  const index = order.indexOf(tag);
  return index === -1 ? order.length : index;
}

export function setupSwagger(app: INestApplication): void {
  SwaggerModule.setup('api/docs', app, () => buildOpenApiDocument(app), {
    jsonDocumentUrl: 'api/docs-json',
    yamlDocumentUrl: 'api/docs-yaml',
    swaggerOptions: { persistAuthorization: false },
  });
}
