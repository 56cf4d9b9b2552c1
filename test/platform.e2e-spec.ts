import { Validator } from '@seriousme/openapi-schema-validator';
import { ScratchDatabase } from '../src/database/cli/scratch-database';
import { ProbeAppModule, ProbeController } from './helpers/probe.controller';
import { scratchMariadb, startApp, TestApp } from './helpers/test-app';

describe('HTTP platform (MariaDB)', () => {
  let database: ScratchDatabase;
  let sut: TestApp;

  beforeAll(async () => {
    database = await scratchMariadb();
    sut = await startApp(database, {
      rootModule: ProbeAppModule,
      env: { CORS_ORIGINS: 'https://admin.example.com', BODY_LIMIT: '4096' },
    });
  });

  afterAll(async () => {
    await sut?.close();
    await database?.drop();
  });

  describe('health', () => {
    it('should answer liveness', async () => {
      const response = await sut.http.get('/api/v1/health/live').expect(200);
      expect(response.body.status).toBe('ok');
    });

    it('should answer readiness with the database and keyring up', async () => {
      const response = await sut.http.get('/api/v1/health/ready').expect(200);
      expect(response.body.details.database.status).toBe('up');
      expect(response.body.details.keyring).toMatchObject({
        status: 'up',
        sealed: false,
        keyId: 'k1',
      });
    });
  });

  describe('OpenAPI', () => {
    it('should serve a valid OpenAPI 3 document declaring both auth schemes', async () => {
      const response = await sut.http.get('/api/docs-json').expect(200);
      const result = await new Validator().validate(response.body);
      expect(result.errors ?? []).toEqual([]);
      expect(result.valid).toBe(true);
      expect(response.body.openapi).toMatch(/^3\./);
      expect(Object.keys(response.body.components.securitySchemes).sort()).toEqual([
        'api-key',
        'jwt',
        'vault-token',
      ]);
      expect(response.body.paths['/api/v1/health/ready']).toBeDefined();
    });

    it('should say for every operation whether it is public or which scheme it needs', async () => {
      const response = await sut.http.get('/api/docs-json').expect(200);
      const paths = response.body.paths as Record<string, Record<string, Record<string, unknown>>>;
      for (const [path, operations] of Object.entries(paths)) {
        for (const [method, operation] of Object.entries(operations)) {
          if (path.startsWith('/api/v1/probe')) continue;
          const open = operation['x-custos-public'] === true;
          const security = (operation.security ?? []) as Record<string, unknown>[];
          expect({ route: `${method} ${path}`, documented: open || security.length > 0 }).toEqual({
            route: `${method} ${path}`,
            documented: true,
          });
        }
      }
    });

    it('should document a success response for every operation', async () => {
      const response = await sut.http.get('/api/docs-json').expect(200);
      const undocumented = operationsOf(response.body)
        .filter(
          ({ operation }) => !Object.keys(operation.responses ?? {}).some((s) => /^2/.test(s)),
        )
        .map(({ route }) => route);
      expect(undocumented).toEqual([]);
    });

    it('should pre-fill no optional query parameter, so "Try it out" lists everything', async () => {
      const response = await sut.http.get('/api/docs-json').expect(200);
      const prefilled = operationsOf(response.body).flatMap(({ route, operation }) =>
        (operation.parameters ?? [])
          .filter((p) => p.in === 'query' && !p.required)
          .filter((p) => p.example !== undefined || p.schema?.example !== undefined)
          .map((p) => `${route} ?${p.name}`),
      );
      expect(prefilled).toEqual([]);
    });

    it('should show each documented error with an example of its own status', async () => {
      const response = await sut.http.get('/api/docs-json').expect(200);
      const wrong = operationsOf(response.body).flatMap(({ route, operation }) =>
        Object.entries(operation.responses ?? {})
          .filter(([status]) => /^[45]/.test(status))
          .filter(
            ([status, body]) =>
              body.content?.['application/json']?.example?.statusCode !== Number(status),
          )
          .map(([status]) => `${route} ${status}`),
      );
      expect(wrong).toEqual([]);
    });

    it('should describe the API key format as code, so Markdown keeps its underscores', async () => {
      const response = await sut.http.get('/api/docs-json').expect(200);
      expect(response.body.components.securitySchemes['api-key'].description).toContain(
        '`cus_<id>_<secret>`',
      );
    });

    it('should serve the Swagger UI', async () => {
      const response = await sut.http.get('/api/docs').expect(200);
      expect(response.text).toContain('swagger-ui');
    });
  });

  describe('errors', () => {
    it('should answer unknown routes with 404 in the common shape', async () => {
      const response = await sut.http.get('/api/v1/does-not-exist').expect(404);
      expect(response.body).toEqual({
        statusCode: 404,
        error: 'Not Found',
        message: 'Cannot GET /api/v1/does-not-exist',
        requestId: response.headers['x-request-id'],
      });
    });

    it('should refuse an unknown field with 400 naming it', async () => {
      const response = await sut.http
        .post('/api/v1/probe/echo')
        .send({ name: 'a', role: 'admin' })
        .expect(400);
      expect(response.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
      expect(response.body.message).toContain('role');
      expect(response.body.fields).toEqual([
        { field: 'role', errors: ['property role should not exist'] },
      ]);
    });

    it('should list every offending field of an invalid body', async () => {
      const response = await sut.http
        .post('/api/v1/probe/echo')
        .send({ name: 7, count: 99 })
        .expect(400);
      expect(response.body.fields.map((f: { field: string }) => f.field).sort()).toEqual([
        'count',
        'name',
      ]);
    });

    it('should refuse malformed JSON with 400', async () => {
      const response = await sut.http
        .post('/api/v1/probe/echo')
        .set('content-type', 'application/json')
        .send('{"name":')
        .expect(400);
      expect(response.body).toMatchObject({ statusCode: 400, requestId: expect.any(String) });
    });

    it('should refuse a body over the limit with 413', async () => {
      const response = await sut.http
        .post('/api/v1/probe/echo')
        .send({ name: 'x'.repeat(5000) })
        .expect(413);
      expect(response.body).toMatchObject({ statusCode: 413, error: 'Payload Too Large' });
    });

    it('should accept a valid body', async () => {
      await sut.http
        .post('/api/v1/probe/echo')
        .send({ name: 'ok', count: 3 })
        .expect(201, { name: 'ok', count: 3 });
    });

    it('should answer 500 without internals', async () => {
      const response = await sut.http.get('/api/v1/probe/crash').expect(500);
      expect(response.body).toEqual({
        statusCode: 500,
        error: 'Internal Server Error',
        message: 'Internal server error',
        requestId: response.headers['x-request-id'],
      });
      expect(response.text).not.toMatch(/secret-value|SELECT|ER_DUP|at /);
    });
  });

  describe('request id', () => {
    it('should echo a sane X-Request-Id', async () => {
      const response = await sut.http
        .get('/api/v1/health/live')
        .set('x-request-id', 'trace-42.a')
        .expect(200);
      expect(response.headers['x-request-id']).toBe('trace-42.a');
    });

    it('should replace an unsafe X-Request-Id with a generated one', async () => {
      const response = await sut.http
        .get('/api/v1/nope')
        .set('x-request-id', 'bad id\twith<script>')
        .expect(404);
      expect(response.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      expect(response.body.requestId).toBe(response.headers['x-request-id']);
    });

    it('should generate one when none is given', async () => {
      const response = await sut.http.get('/api/v1/health/live').expect(200);
      expect(response.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    });
  });

  describe('hygiene', () => {
    it('should send security headers', async () => {
      const response = await sut.http.get('/api/v1/health/live').expect(200);
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      expect(response.headers['content-security-policy']).toContain("default-src 'self'");
      expect(response.headers['x-powered-by']).toBeUndefined();
    });

    it('should allow CORS only for configured origins', async () => {
      const allowed = await sut.http
        .options('/api/v1/health/live')
        .set('origin', 'https://admin.example.com')
        .set('access-control-request-method', 'GET');
      expect(allowed.headers['access-control-allow-origin']).toBe('https://admin.example.com');
      expect(allowed.headers['access-control-allow-credentials']).toBe('true');
      const refused = await sut.http
        .get('/api/v1/health/live')
        .set('origin', 'https://evil.example.com');
      expect(refused.headers['access-control-allow-origin']).toBeUndefined();
    });
  });

  describe('metrics', () => {
    it('should count requests by route template and status', async () => {
      await sut.http.get('/api/v1/health/live').expect(200);
      const response = await sut.http.get('/metrics').expect(200);
      expect(response.headers['content-type']).toContain('text/plain');
      expect(response.text).toMatch(
        /custos_http_requests_total\{method="GET",route="\/api\/v1\/health\/live",status="200"\} \d+/,
      );
      expect(response.text).toContain('custos_http_request_duration_seconds_bucket');
      expect(response.text).toMatch(/route="unmatched",status="404"/);
    });
  });

  describe('throttling', () => {
    it('should answer 429 with Retry-After once the limit is spent', async () => {
      const limited = await startApp(database, {
        rootModule: ProbeAppModule,
        env: { CUSTOS_MASTER_KEY: sut.env.CUSTOS_MASTER_KEY, THROTTLE_LIMIT: '2' },
      });
      try {
        await limited.http.post('/api/v1/probe/echo').send({ name: 'a' }).expect(201);
        await limited.http.post('/api/v1/probe/echo').send({ name: 'b' }).expect(201);
        const refused = await limited.http
          .post('/api/v1/probe/echo')
          .send({ name: 'c' })
          .expect(429);
        expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
        expect(refused.body).toMatchObject({ statusCode: 429, error: 'Too Many Requests' });
        // Probes are never throttled, so an orchestrator cannot be locked out.
        await limited.http.get('/api/v1/health/live').expect(200);
      } finally {
        await limited.close();
      }
    });
  });

  describe('shutdown', () => {
    it('should finish an in-flight request before closing', async () => {
      // The same master key: the keyring of this database already holds its check value.
      const separate = await startApp(database, {
        rootModule: ProbeAppModule,
        env: { CUSTOS_MASTER_KEY: sut.env.CUSTOS_MASTER_KEY },
      });
      ProbeController.inFlightDelayMs = 400;
      const started = new Promise<void>((resolve) => (ProbeController.onSlowStarted = resolve));
      const done = separate.http.get('/api/v1/probe/slow').then((response) => response);
      await started;
      await separate.close();
      const response = await done;
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ done: true });
    });
  });
});

interface DocOperation {
  parameters?: {
    name: string;
    in: string;
    required?: boolean;
    example?: unknown;
    schema?: { example?: unknown };
  }[];
  responses?: Record<string, { content?: Record<string, { example?: { statusCode?: number } }> }>;
}

/** Every operation of the OpenAPI document but the test's own probe routes. */
function operationsOf(doc: {
  paths: Record<string, Record<string, DocOperation>>;
}): { route: string; operation: DocOperation }[] {
  return Object.entries(doc.paths)
    .filter(([path]) => !path.startsWith('/api/v1/probe'))
    .flatMap(([path, operations]) =>
      Object.entries(operations).map(([method, operation]) => ({
        route: `${method.toUpperCase()} ${path}`,
        operation,
      })),
    );
}
