import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { actingAs, createControllerApp, strictFn } from '../../../test/helpers/controller-app';
import { AuditRequestContext } from '../../audit/audit-context';
import { IS_PUBLIC, ROLES } from '../../common/auth/auth.decorators';
import type { Principal } from '../../common/auth/principal';
import { CapabilityRequiredError, CredentialNotFoundError } from '../credential.errors';
import { RevealService } from '../reveal.service';
import { SecretsController } from './secrets.controller';

const SERVICE: Principal = {
  type: 'service',
  id: '7d3c1b2a-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
  name: 'billing-api',
};
const ADMIN: Principal = {
  type: 'user',
  id: '9c2d4e6f-8a0b-4c1d-9e2f-3a4b5c6d7e8f',
  email: 'admin@example.com',
  role: 'admin',
  mustChangePassword: false,
  mfaEnabled: false,
};
const CREDENTIAL_ID = '5b1e6c2a-8d3f-4a7b-9c1d-2e3f4a5b6c7d';

function revealed(path: string): Record<string, unknown> {
  return {
    id: CREDENTIAL_ID,
    path,
    type: 'connection_string',
    version: 2,
    state: 'current',
    secret: { connectionString: 'mysql://app:pa55@db.acme.internal:3306/app' },
  };
}

describe('SecretsController', () => {
  let app: NestFastifyApplication;
  const reveals = {
    revealByPath: strictFn('RevealService.revealByPath'),
    revealById: strictFn('RevealService.revealById'),
  };
  let principal: Principal = SERVICE;
  let lastContext: AuditRequestContext | undefined;

  beforeAll(async () => {
    app = await createControllerApp(
      {
        controllers: [SecretsController],
        providers: [{ provide: RevealService, useValue: reveals }],
      },
      {
        beforeInit: actingAs(
          () => principal,
          (context) => (lastContext = context),
        ),
      },
    );
  });

  afterAll(async () => {
    await app?.close();
  });

  beforeEach(() => {
    jest.clearAllMocks();
    principal = SERVICE;
    lastContext = undefined;
  });

  it('should require authentication', () => {
    expect(Reflect.getMetadata(IS_PUBLIC, SecretsController)).toBeUndefined();
    expect(Reflect.getMetadata(IS_PUBLIC, SecretsController.prototype.read)).toBeUndefined();
  });

  it('should be open to every role and to services, the grant deciding', () => {
    expect(Reflect.getMetadata(ROLES, SecretsController)).toBeUndefined();
    expect(Reflect.getMetadata(ROLES, SecretsController.prototype.read)).toBeUndefined();
  });

  describe('GET /api/v1/secrets/*', () => {
    it('should pass the whole path, the caller and the audit context and answer the secret', async () => {
      reveals.revealByPath.mockResolvedValueOnce(revealed('acme/prod/db'));

      const response = await app.inject({ method: 'GET', url: '/api/v1/secrets/acme/prod/db' });

      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual(revealed('acme/prod/db'));
      expect(reveals.revealByPath).toHaveBeenCalledTimes(1);
      expect(reveals.revealByPath).toHaveBeenCalledWith('acme/prod/db', SERVICE, lastContext);
      expect(reveals.revealById).not.toHaveBeenCalled();
    });

    it('should tell caches not to keep the secret', async () => {
      reveals.revealByPath.mockResolvedValueOnce(revealed('acme/prod/db'));

      const response = await app.inject({ method: 'GET', url: '/api/v1/secrets/acme/prod/db' });

      expect(response.statusCode).toBe(200);
      expect(response.headers['cache-control']).toBe('no-store');
    });

    it('should pass a person as the caller too', async () => {
      principal = ADMIN;
      reveals.revealByPath.mockResolvedValueOnce(revealed('acme/prod/db'));

      const response = await app.inject({ method: 'GET', url: '/api/v1/secrets/acme/prod/db' });

      expect(response.statusCode).toBe(200);
      expect(reveals.revealByPath).toHaveBeenCalledWith('acme/prod/db', ADMIN, lastContext);
    });

    it.each([
      ['one segment', 'db'],
      ['many segments', 'acme/eu/prod/cluster-1/mysql/root'],
      ['dots, underscores and dashes', 'acme.eu/prod_1/mysql-root.v2'],
      ['255 characters', `${'a'.repeat(64)}/${'b'.repeat(64)}/${'c'.repeat(64)}/${'d'.repeat(60)}`],
    ])('should pass a path of %s as it is', async (_case, path) => {
      reveals.revealByPath.mockResolvedValueOnce(revealed(path));

      const response = await app.inject({ method: 'GET', url: `/api/v1/secrets/${path}` });

      expect(response.statusCode).toBe(200);
      expect(reveals.revealByPath).toHaveBeenCalledWith(path, SERVICE, lastContext);
    });

    it('should leave the query string out of the path', async () => {
      reveals.revealByPath.mockResolvedValueOnce(revealed('acme/prod/db'));

      const response = await app.inject({
        method: 'GET',
        url: '/api/v1/secrets/acme/prod/db?version=1',
      });

      expect(response.statusCode).toBe(200);
      expect(reveals.revealByPath).toHaveBeenCalledWith('acme/prod/db', SERVICE, lastContext);
    });

    it.each([
      // '.' and '..' segments are resolved by the URL parser before routing, so not listed here.
      ['upper case', 'Acme/Prod/DB'],
      ['an empty segment', 'acme//db'],
      ['a trailing /', 'acme/prod/db/'],
      ['a space', 'acme/my%20db'],
      ['a NUL byte', 'acme/db%00x'],
      ['a wildcard', 'acme/*'],
      ['a segment longer than 64', `acme/${'a'.repeat(65)}`],
      ['more than 255 characters', `${'ab/'.repeat(85)}ab`],
      ['nothing', ''],
    ])('should reject a bad path: %s, without calling the service', async (_case, path) => {
      const response = await app.inject({ method: 'GET', url: `/api/v1/secrets/${path}` });

      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({
        statusCode: 400,
        error: 'Bad Request',
        requestId: expect.any(String),
      });
      expect(reveals.revealByPath).not.toHaveBeenCalled();
    });

    it.each([
      [
        'the credential does not exist or may not be read',
        new CredentialNotFoundError(),
        404,
        'Not Found',
        'Credential not found',
      ],
      [
        'the caller may read but not reveal',
        new CapabilityRequiredError('reveal'),
        403,
        'Forbidden',
        "This needs the 'reveal' capability on the credential's path",
      ],
    ])('should answer when %s', async (_case, error, status, name, message) => {
      reveals.revealByPath.mockRejectedValueOnce(error);

      const response = await app.inject({ method: 'GET', url: '/api/v1/secrets/acme/prod/db' });

      expect(response.statusCode).toBe(status);
      expect(response.json()).toEqual({
        statusCode: status,
        error: name,
        message,
        requestId: expect.any(String),
      });
    });

    it('should not answer other methods', async () => {
      const response = await app.inject({ method: 'POST', url: '/api/v1/secrets/acme/prod/db' });

      expect(response.statusCode).toBe(404);
      expect(reveals.revealByPath).not.toHaveBeenCalled();
    });
  });
});
