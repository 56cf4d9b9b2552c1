import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { API_KEY_SCHEME, JWT_SCHEME, VAULT_TOKEN_SCHEME } from '../common/http/openapi-schemes';

export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Custos')
    .setDescription(
      'Self-hosted credentials vault. Errors are `{statusCode, error, message, requestId}`; ' +
        'every response carries `X-Request-Id`.',
    )
    .setVersion('0.1.0')
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'JWT',
        description: 'Access token from POST /auth/login',
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
  return SwaggerModule.createDocument(app, config);
}

export function setupSwagger(app: INestApplication): void {
  SwaggerModule.setup('api/docs', app, () => buildOpenApiDocument(app), {
    jsonDocumentUrl: 'api/docs-json',
    yamlDocumentUrl: 'api/docs-yaml',
    swaggerOptions: { persistAuthorization: false },
  });
}
