import type { IncomingMessage } from 'node:http';
import { ScratchDatabase } from '../src/database/cli/scratch-database';
import { bearerFor, scratchMariadb, startApp, TestApp } from './helpers/test-app';

/** How the OpenAPI document names the rest-of-the-URL parameter of the wildcard routes. */
const WILDCARD = '{path}';

type Caller = 'anonymous' | 'service' | 'admin' | 'operator' | 'auditor' | 'viewer';
const PEOPLE = ['admin', 'operator', 'auditor', 'viewer'] as const;

interface Operation {
  method: string;
  path: string;
  public: boolean;
  roles: string[] | null;
  /** Checked per object by the service (role or grant), not by role at the route. */
  capability: string | null;
  /** Answers a Server-Sent Events stream, which lasts until the client hangs up. */
  streams: boolean;
}

/**
 * Every operation of the OpenAPI document, called by every kind of caller: the refused ones get
 * 401 or 403 and the allowed ones get past authorization (whatever the route then says about an
 * empty body or an unknown id). New routes are covered as soon as they are documented.
 */
describe('Access matrix over every documented route (MariaDB)', () => {
  let database: ScratchDatabase;
  let sut: TestApp;
  let operations: Operation[];
  const headers: Partial<Record<Caller, Record<string, string>>> = { anonymous: {} };

  beforeAll(async () => {
    database = await scratchMariadb();
    sut = await startApp(database, {
      env: { THROTTLE_LIMIT: '100000', LOGIN_THROTTLE_LIMIT: '100000' },
    });
    for (const role of PEOPLE) headers[role] = { authorization: await bearerFor(sut, role) };
    const admin = headers.admin!;
    const account = await sut.http
      .post('/api/v1/service-accounts')
      .set(admin)
      .send({ name: 'matrix' })
      .expect(201);
    const key = await sut.http
      .post(`/api/v1/service-accounts/${account.body.id}/keys`)
      .set(admin)
      .send({})
      .expect(201);
    headers.service = { 'x-api-key': key.body.apiKey as string };
    const document = (await sut.http.get('/api/docs-json').expect(200)).body as {
      paths: Record<
        string,
        Record<
          string,
          {
            'x-custos-public'?: boolean;
            'x-custos-capability'?: string;
            responses: Record<string, { description?: string; content?: Record<string, unknown> }>;
          }
        >
      >;
    };
    operations = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, operation]) => {
        const requirement = operation.responses['403']?.description ?? '';
        const roles = /^Requires the role (.+?);/.exec(requirement)?.[1].split(' or ') ?? null;
        return {
          method,
          path,
          public: operation['x-custos-public'] === true,
          roles,
          capability: operation['x-custos-capability'] ?? null,
          streams: Object.hasOwn(operation.responses['200']?.content ?? {}, 'text/event-stream'),
        };
      }),
    );
  });

  afterAll(async () => {
    await sut?.close();
    await database?.drop();
  });

  const call = (operation: Operation, caller: Caller) => {
    const url = operation.path
      .replace('{id}', '2f1c7a52-3f0e-4f43-9f55-1f4a4c3f8b11')
      .replace('{keyId}', '0123456789abcdef')
      .replace('{mount}', 'secret')
      .replace(WILDCARD, 'matrix/missing');
    const request = (
      sut.http as unknown as Record<string, (url: string) => import('supertest').Test>
    )[operation.method](url);
    if (operation.streams) {
      // A stream that is let through never ends by itself: take its status and hang up.
      return request
        .set(headers[caller]!)
        .buffer(false)
        .parse((response, done) => {
          // Superagent hands the Node response to a custom parser.
          (response as unknown as IncomingMessage).destroy();
          done(null, undefined);
        });
    }
    return request.set(headers[caller]!).send({});
  };

  it('should find the routes it is meant to check', () => {
    expect(operations.length).toBeGreaterThan(25);
    expect(operations.filter((o) => !o.public && !o.roles && !o.capability)).toEqual([]);
    expect(operations.filter((o) => o.capability).length).toBeGreaterThan(8);
    expect(operations.filter((o) => o.streams).map((o) => `${o.method} ${o.path}`)).toEqual([
      'get /api/v1/events',
    ]);
  });

  it('should document the incident routes as issue 12 describes them', () => {
    // Operators and admins write; auditors read; viewers and services have no access.
    const WRITE = ['admin', 'operator'];
    const READ = ['admin', 'operator', 'auditor'];
    const incidents = operations
      .filter((o) => o.path.startsWith('/api/v1/incidents'))
      .map((o) => ({ route: `${o.method} ${o.path}`, roles: o.roles, public: o.public }));

    expect(incidents).toEqual(
      expect.arrayContaining(
        [
          ['post /api/v1/incidents', WRITE],
          ['get /api/v1/incidents', READ],
          ['get /api/v1/incidents/{id}', READ],
          ['patch /api/v1/incidents/{id}', WRITE],
          ['post /api/v1/incidents/{id}/transition', WRITE],
          ['post /api/v1/incidents/{id}/comments', WRITE],
          ['get /api/v1/incidents/{id}/timeline', READ],
          ['get /api/v1/incidents/{id}/scope', READ],
          ['post /api/v1/incidents/{id}/credentials', WRITE],
          ['delete /api/v1/incidents/{id}/credentials', WRITE],
          ['post /api/v1/incidents/{id}/principals', WRITE],
          ['delete /api/v1/incidents/{id}/principals', WRITE],
          ['post /api/v1/incidents/{id}/contain', WRITE],
          ['get /api/v1/incidents/{id}/blast-radius', READ],
          ['get /api/v1/incidents/{id}/export', READ],
        ].map(([route, roles]) => ({ route, roles, public: false })),
      ),
    );
    // Any incident route added later must say its roles too (the walk below then checks them).
    expect(incidents.filter((o) => !o.roles || o.public)).toEqual([]);
  });

  it('should refuse anonymous callers on every non-public route with 401', async () => {
    for (const operation of operations.filter((o) => !o.public)) {
      const response = await call(operation, 'anonymous');
      // Vault clients expect Vault's answer to a missing token: 403 "permission denied".
      const vault = operation.path.startsWith('/v1/');
      expect({
        route: `${operation.method} ${operation.path}`,
        status: response.status,
        ...(vault ? { body: response.body as unknown } : {}),
      }).toEqual({
        route: `${operation.method} ${operation.path}`,
        status: vault ? 403 : 401,
        ...(vault ? { body: { errors: ['permission denied'] } } : {}),
      });
    }
  });

  it('should document the Vault compatibility routes', () => {
    const vault = operations
      .filter((o) => o.path.startsWith('/v1/'))
      .map((o) => `${o.method} ${o.path}`)
      .sort();
    expect(vault).toEqual(
      [
        'get /v1/sys/health',
        'get /v1/sys/seal-status',
        `get /v1/sys/internal/ui/mounts/${WILDCARD}`,
        'post /v1/auth/approle/login',
        'get /v1/auth/token/lookup-self',
        'post /v1/auth/token/lookup-self',
        'post /v1/auth/token/renew-self',
        `get /v1/{mount}/data/${WILDCARD}`,
        `post /v1/{mount}/data/${WILDCARD}`,
        `put /v1/{mount}/data/${WILDCARD}`,
        `delete /v1/{mount}/data/${WILDCARD}`,
        `get /v1/{mount}/metadata/${WILDCARD}`,
        `delete /v1/{mount}/metadata/${WILDCARD}`,
        `post /v1/{mount}/destroy/${WILDCARD}`,
        `post /v1/{mount}/delete/${WILDCARD}`,
        `post /v1/{mount}/undelete/${WILDCARD}`,
      ].sort(),
    );
  });

  it.each([...PEOPLE, 'service'] as const)(
    'should refuse %s exactly where its role is not listed, and let it through elsewhere',
    async (caller) => {
      for (const operation of operations.filter((o) => !o.public && o.roles)) {
        const allowed = caller !== 'service' && operation.roles!.includes(caller);
        const response = await call(operation, caller);
        const verdict =
          response.status === 403
            ? 'refused'
            : response.status === 401
              ? 'unauthenticated'
              : 'through';
        expect({ route: `${operation.method} ${operation.path}`, verdict }).toEqual({
          route: `${operation.method} ${operation.path}`,
          verdict: allowed ? 'through' : 'refused',
        });
      }
    },
  );

  it.each([...PEOPLE, 'service'] as const)(
    'should let %s past the route on capability routes, where the service decides per credential',
    async (caller) => {
      for (const operation of operations.filter((o) => o.capability)) {
        const response = await call(operation, caller);
        // Nothing exists yet: a 404 (unknown id) or 400 (empty body) shows the route ran.
        const verdict = [401, 403].includes(response.status) ? 'refused' : 'through';
        expect({ route: `${operation.method} ${operation.path}`, verdict }).toEqual({
          route: `${operation.method} ${operation.path}`,
          verdict: 'through',
        });
      }
    },
  );
});
