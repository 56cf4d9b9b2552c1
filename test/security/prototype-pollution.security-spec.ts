import { ScratchDatabase } from '../../src/database/cli/scratch-database';
import { bearerFor, scratchMariadb, startApp, TestApp } from '../helpers/test-app';

/**
 * Prototype pollution, checked where it would happen: the app runs in this process (Jest's
 * realm), so after every write route of the OpenAPI document got `__proto__` and
 * `constructor.prototype` keys in its body, and every read route in its query string,
 * Object.prototype must be exactly as it was. The spawned attack suite can only see effects.
 */

const MISSING = '2f1c7a52-3f0e-4f43-9f55-1f4a4c3f8b11';
const BODY =
  '{"__proto__":{"polluted":"body"},"constructor":{"prototype":{"polluted":"constructor"}},' +
  '"secret":{"__proto__":{"polluted":"nested"}},"metadata":{"__proto__":{"polluted":"metadata"}}}';
const QUERY =
  '__proto__[polluted]=query&constructor[prototype][polluted]=query&__proto__.polluted=query';

describe('Prototype pollution over every documented route (in-process app, MariaDB)', () => {
  let database: ScratchDatabase;
  let sut: TestApp;
  let admin: string;
  const before = Object.getOwnPropertyNames(Object.prototype).sort();

  beforeAll(async () => {
    database = await scratchMariadb();
    sut = await startApp(database, {
      env: { THROTTLE_LIMIT: '100000', LOGIN_THROTTLE_LIMIT: '100000' },
    });
    admin = await bearerFor(sut, 'admin');
  });

  afterAll(async () => {
    await sut?.close();
    await database?.drop();
  });

  it('should leave Object.prototype untouched and never answer 500', async () => {
    const document = (await sut.http.get('/api/docs-json').expect(200)).body as {
      paths: Record<string, Record<string, { responses: Record<string, { content?: object }> }>>;
    };
    const failures: string[] = [];
    let calls = 0;
    for (const [template, methods] of Object.entries(document.paths)) {
      const path = template
        .replace('{id}', MISSING)
        .replace('{keyId}', '0123456789abcdef')
        .replace('{runId}', MISSING)
        .replace('{mount}', 'secret')
        .replace('{path}', 'pollution/x');
      for (const [method, operation] of Object.entries(methods)) {
        if (method === 'delete') continue;
        if (Object.hasOwn(operation.responses['200']?.content ?? {}, 'text/event-stream')) continue;
        const agent = sut.http as unknown as Record<
          string,
          (url: string) => import('supertest').Test
        >;
        const response =
          method === 'get'
            ? await agent.get(`${path}?${QUERY}`).set('authorization', admin)
            : await agent[method](path)
                .set('authorization', admin)
                .set('content-type', 'application/json')
                .send(BODY);
        calls++;
        if (response.status >= 500) failures.push(`${method} ${template}: ${response.status}`);
      }
    }
    expect(calls).toBeGreaterThan(60);
    expect(failures).toEqual([]);
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(before);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('should refuse __proto__ in a credential body at the parser with 400 and store nothing', async () => {
    const response = await sut.http
      .post('/api/v1/credentials')
      .set('authorization', admin)
      .set('content-type', 'application/json')
      .send(
        '{"path":"pollution/a","name":"n","type":"password","secret":{"password":"p4ss-w0rd-long"},"__proto__":{"decoy":true}}',
      )
      .expect(400);
    // The JSON parser refuses prototype keys outright, before validation sees the body.
    expect(response.body).toMatchObject({
      statusCode: 400,
      message: "Body is not valid JSON but content-type is set to 'application/json'",
    });
    await sut.http.get('/api/v1/secrets/pollution/a').set('authorization', admin).expect(404);
  });
});
