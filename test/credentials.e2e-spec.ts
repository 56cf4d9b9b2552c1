import { X509Certificate } from 'node:crypto';
import { DataSource } from 'typeorm';
import {
  EC_PRIVATE_KEY,
  LEAF_CERTIFICATE,
  LEAF_PRIVATE_KEY,
} from '../src/credentials/secrets/__fixtures__/certificate-fixtures';
import {
  SSH_ECDSA_P256,
  SSH_ED25519,
} from '../src/credentials/secrets/__fixtures__/ssh-key-fixtures';
import { ScratchDatabase } from '../src/database/cli/scratch-database';
import { openDirect } from './helpers/audit-db';
import {
  canariesIn,
  createCredential,
  CredentialMetadata,
  Headers,
  JWT_EXP_SECONDS,
  passwordNumber,
  pemBodyLines,
  TYPE_FIXTURES,
} from './helpers/credential-fixtures';
import { GrantSpec, serviceWithGrants } from './helpers/principals';
import { bearerFor, scratchMariadb, startApp, TestApp, TestAppOptions } from './helpers/test-app';

const API = '/api/v1';
/** Shared by every app of this file, so tokens and keys of one work on the others. */
const BASE_ENV = {
  JWT_SECRET: 'credentials-e2e-jwt-secret-0123456789abcdef',
  THROTTLE_LIMIT: '100000',
  LOGIN_THROTTLE_LIMIT: '100000',
};
const MISSING_ID = '2f1c7a52-3f0e-4f43-9f55-1f4a4c3f8b11';

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

interface Page {
  items: CredentialMetadata[];
  nextCursor: string | null;
  total: number;
}

interface VersionItem {
  version: number;
  state: string;
  revealable: boolean;
  graceUntil: string | null;
  revokedAt: string | null;
  destroyedAt: string | null;
}

interface AuditItem {
  action: string;
  resource: { type: string | null; id: string | null };
  details: Record<string, unknown>;
}

describe('Credentials over HTTP (MariaDB)', () => {
  let database: ScratchDatabase;
  let db: DataSource;
  let sut: TestApp;
  let admin: Headers;
  let operator: Headers;
  let auditor: Headers;
  let viewer: Headers;

  beforeAll(async () => {
    database = await scratchMariadb();
    sut = await startApp(database, { env: BASE_ENV });
    db = await openDirect(database);
    admin = { authorization: await bearerFor(sut, 'admin') };
    operator = { authorization: await bearerFor(sut, 'operator') };
    auditor = { authorization: await bearerFor(sut, 'auditor') };
    viewer = { authorization: await bearerFor(sut, 'viewer') };
  });

  afterAll(async () => {
    await sut?.close();
    await db?.destroy();
    await database?.drop();
  });

  /** Another app on the same database and master key, with some settings changed. */
  const startVariant = (env: Record<string, string>): Promise<TestApp> => {
    const options: TestAppOptions = {
      env: { ...BASE_ENV, CUSTOS_MASTER_KEY: sut.env.CUSTOS_MASTER_KEY, ...env },
    };
    return startApp(database, options);
  };

  const service = (grants: GrantSpec[], app: TestApp = sut) =>
    serviceWithGrants(app, admin.authorization, grants);

  /** Any route by method, through Fastify's inject: for tables of routes and parallel calls. */
  const call = async (
    method: Method,
    url: string,
    headers: Headers,
    body?: object,
    app: TestApp = sut,
  ): Promise<{ status: number; body: Record<string, unknown> }> => {
    const response = await app.app.inject({
      method,
      url: `${API}${url}`,
      headers,
      ...(body === undefined ? {} : { payload: body }),
    });
    return {
      status: response.statusCode,
      body: response.body ? (JSON.parse(response.body) as Record<string, unknown>) : {},
    };
  };

  const reveal = (headers: Headers, id: string, body: object = {}, app: TestApp = sut) =>
    app.http.post(`${API}/credentials/${id}/reveal`).set(headers).send(body);

  const revealedSecret = async (id: string, app: TestApp = sut) =>
    (await reveal(admin, id, {}, app).expect(200)).body.secret as Record<string, unknown>;

  const versionsOf = async (id: string, app: TestApp = sut): Promise<VersionItem[]> =>
    (await app.http.get(`${API}/credentials/${id}/versions`).set(admin).expect(200)).body
      .items as VersionItem[];

  const list = async (query: string, headers: Headers = admin): Promise<Page> =>
    (await sut.http.get(`${API}/credentials?${query}`).set(headers).expect(200)).body as Page;

  const putSecret = (
    id: string,
    secret: Record<string, unknown>,
    ifMatch?: string,
    app: TestApp = sut,
  ) => {
    const request = app.http.put(`${API}/credentials/${id}/secret`).set(admin);
    if (ifMatch !== undefined) request.set('if-match', ifMatch);
    return request.send({ secret });
  };

  const auditEvents = async (action: string, resourceId: string): Promise<AuditItem[]> =>
    (
      await sut.http
        .get(`${API}/audit/events?action=${action}&resourceId=${resourceId}&outcome=success`)
        .set(admin)
        .expect(200)
    ).body.items as AuditItem[];

  const rowCount = async (table: 'credentials' | 'credential_versions' | 'credential_tags') =>
    Number((await db.query<{ n: string }[]>(`SELECT COUNT(*) AS n FROM ${table}`))[0].n);

  describe('every credential type', () => {
    it.each(TYPE_FIXTURES.map((fixture) => [fixture.type, fixture] as const))(
      'should reveal exactly the stored %s secret and keep it out of every metadata response',
      async (type, fixture) => {
        const path = `roundtrip/${type}`;
        const created = await sut.http
          .post(`${API}/credentials`)
          .set(admin)
          .send({ path, name: `Round trip ${type}`, type, secret: fixture.secret, tags: ['rt'] })
          .expect(201);
        const id = created.body.id as string;
        expect(created.body).toMatchObject({ path, type, currentVersion: 1, status: 'active' });
        expect(created.body).not.toHaveProperty('secret');

        const revealed = await reveal(admin, id).expect(200);
        expect(revealed.body).toEqual({
          id,
          path,
          type,
          version: 1,
          state: 'current',
          secret: fixture.secret,
        });

        const metadata = [
          created.body,
          (await sut.http.get(`${API}/credentials/${id}`).set(admin).expect(200)).body,
          await list(`pathPrefix=${path}`),
          (await sut.http.get(`${API}/credentials/${id}/versions`).set(admin).expect(200)).body,
          (
            await sut.http
              .patch(`${API}/credentials/${id}`)
              .set(admin)
              .send({ description: `patched ${type}` })
              .expect(200)
          ).body,
          (await putSecret(id, fixture.secret).expect(200)).body,
          (await sut.http.get(`${API}/audit/events?resourceId=${id}`).set(admin).expect(200)).body,
        ];
        for (const body of metadata) expect(canariesIn(body)).toEqual([]);
        expect(await revealedSecret(id)).toEqual(fixture.secret);
      },
    );

    it('should read subject, issuer and notAfter of a certificate and take its expiry from it', async () => {
      const certificate = new X509Certificate(LEAF_CERTIFICATE);
      const notAfter = new Date(certificate.validTo).toISOString();
      const created = await createCredential(sut, admin, {
        path: 'roundtrip-cert/leaf',
        type: 'certificate',
        secret: { certificate: LEAF_CERTIFICATE, privateKey: LEAF_PRIVATE_KEY },
      });
      expect(created.secretInfo).toMatchObject({
        subject: certificate.subject,
        issuer: certificate.issuer,
        notAfter,
      });
      expect(created.expiresAt).toBe(notAfter);
    });

    it('should take the expiry of a JWT from its exp claim', async () => {
      const jwt = TYPE_FIXTURES.find((fixture) => fixture.type === 'jwt')!;
      const created = await createCredential(sut, admin, {
        path: 'roundtrip-jwt/exp',
        type: 'jwt',
        secret: jwt.secret,
      });
      expect(created.expiresAt).toBe(new Date(JWT_EXP_SECONDS * 1000).toISOString());
      expect(created.secretInfo).toMatchObject({ alg: 'HS256', issuer: 'custos-e2e' });
    });

    it('should refuse a private key that does not match the certificate with a field error', async () => {
      const before = await rowCount('credentials');
      const refused = await sut.http
        .post(`${API}/credentials`)
        .set(admin)
        .send({
          path: 'roundtrip-cert/mismatch',
          name: 'Mismatch',
          type: 'certificate',
          secret: { certificate: LEAF_CERTIFICATE, privateKey: EC_PRIVATE_KEY },
        })
        .expect(400);
      expect(refused.body.fields).toEqual([
        { field: 'secret.privateKey', errors: [expect.stringMatching(/does not match/)] },
      ]);
      expect(canariesIn(refused.body, pemBodyLines(EC_PRIVATE_KEY))).toEqual([]);
      expect(await rowCount('credentials')).toBe(before);
    });

    it.each([
      ['a private key that is not a key', { privateKey: 'not-a-key' }, 'secret.privateKey'],
      [
        'a public key of another key',
        { privateKey: SSH_ED25519.openSsh, publicKey: SSH_ECDSA_P256.publicLine },
        'secret.publicKey',
      ],
      [
        'a passphrase for a key that is not encrypted',
        { privateKey: SSH_ED25519.openSsh, passphrase: 'canary-passphrase' },
        'secret.passphrase',
      ],
    ])('should refuse an ssh key with %s', async (_case, secret, field) => {
      const refused = await sut.http
        .post(`${API}/credentials`)
        .set(admin)
        .send({ path: 'roundtrip-ssh/invalid', name: 'Invalid', type: 'ssh_key', secret })
        .expect(400);
      expect(refused.body.fields).toEqual([{ field, errors: [expect.any(String)] }]);
      expect(canariesIn(refused.body, [...pemBodyLines(SSH_ED25519.openSsh), 'canary-'])).toEqual(
        [],
      );
      await sut.http.get(`${API}/credentials?pathPrefix=roundtrip-ssh/`).set(admin).expect(200, {
        items: [],
        nextCursor: null,
        total: 0,
      });
    });
  });

  describe('listing', () => {
    const catalog: Record<string, CredentialMetadata> = {};
    const paths = (page: Page) => page.items.map((item) => item.path);

    beforeAll(async () => {
      const specs = [
        {
          path: 'catalog/alpha-db',
          name: 'Alpha Lantern DB',
          tags: ['db', 'prod'],
          expiresAt: '2030-01-01T00:00:00.000Z',
        },
        {
          path: 'catalog/beta-key',
          name: 'Beta key',
          type: 'api_key' as const,
          secret: { apiKey: 'beta-key-value' },
          tags: ['prod'],
          expiresAt: '2040-01-01T00:00:00.000Z',
        },
        {
          path: 'catalog/gamma-hook',
          name: 'Gamma webhook',
          type: 'shared_secret' as const,
          secret: { secret: 'gamma-hook-value' },
          tags: ['db'],
        },
        {
          path: 'catalog/delta-conn',
          name: 'Delta LANTERN connection',
          type: 'connection_string' as const,
          secret: { connectionString: 'mysql://delta:pw@db.example.test/delta' },
          expiresAt: '2031-06-01T00:00:00.000Z',
        },
        {
          path: 'catalog/nested/epsilon',
          name: 'Epsilon',
          type: 'api_key' as const,
          secret: { apiKey: 'epsilon-value' },
          tags: ['nested'],
        },
      ];
      for (const spec of specs) catalog[spec.path] = await createCredential(sut, admin, spec);
    });

    it.each([
      [
        'pathPrefix',
        'pathPrefix=catalog/',
        [
          'catalog/alpha-db',
          'catalog/beta-key',
          'catalog/delta-conn',
          'catalog/gamma-hook',
          'catalog/nested/epsilon',
        ],
      ],
      ['a deeper pathPrefix', 'pathPrefix=catalog/nested/', ['catalog/nested/epsilon']],
      ['type', 'pathPrefix=catalog/&type=api_key', ['catalog/beta-key', 'catalog/nested/epsilon']],
      ['tag', 'pathPrefix=catalog/&tag=db', ['catalog/alpha-db', 'catalog/gamma-hook']],
      [
        'expiringBefore',
        'pathPrefix=catalog/&expiringBefore=2035-01-01T00:00:00Z',
        ['catalog/alpha-db', 'catalog/delta-conn'],
      ],
      [
        'q on the name, ignoring case',
        'pathPrefix=catalog/&q=lantern',
        ['catalog/alpha-db', 'catalog/delta-conn'],
      ],
      ['q on the path', 'q=nested/eps', ['catalog/nested/epsilon']],
      ['type and tag together', 'pathPrefix=catalog/&type=password&tag=prod', ['catalog/alpha-db']],
      ['a tag nobody has', 'pathPrefix=catalog/&tag=nothing', []],
      ['q with LIKE wildcards, taken literally', 'pathPrefix=catalog/&q=%25', []],
      ['q with an underscore, taken literally', 'pathPrefix=catalog/&q=a_d', []],
    ])('should filter by %s', async (_filter, query, expected) => {
      const page = await list(query);
      expect(paths(page)).toEqual(expected);
      expect(page.total).toBe(expected.length);
      expect(page.nextCursor).toBeNull();
    });

    it('should page through more than one page in path order without duplicates or gaps', async () => {
      const created: string[] = [];
      for (let i = 0; i < 23; i++) {
        const path = `pages/item-${String(i).padStart(2, '0')}`;
        await createCredential(sut, admin, { path });
        created.push(path);
      }
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page = await list(
          `pathPrefix=pages/&limit=5${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        );
        expect(page.total).toBe(23);
        expect(page.items.length).toBeLessThanOrEqual(5);
        seen.push(...paths(page));
        cursor = page.nextCursor;
        pages++;
      } while (cursor && pages < 10);
      expect(pages).toBe(5);
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen).toEqual([...created].sort());
      // The same query answers the same page again.
      expect(paths(await list('pathPrefix=pages/&limit=5'))).toEqual(seen.slice(0, 5));
    });

    it('should page one by one through paths that differ only in punctuation', async () => {
      const created = ['mix/a-1', 'mix/a.1', 'mix/a_1', 'mix/a1', 'mix/a/1', 'mix/a-1/b'];
      for (const path of created) await createCredential(sut, admin, { path });
      const whole = paths(await list('pathPrefix=mix/&limit=200'));
      expect([...whole].sort()).toEqual([...created].sort());
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page = await list(`pathPrefix=mix/&limit=1${cursor ? `&cursor=${cursor}` : ''}`);
        expect(page.total).toBe(created.length);
        seen.push(...paths(page));
        cursor = page.nextCursor;
      } while (cursor && seen.length <= created.length);
      expect(seen).toEqual(whole);
      // '_' in a prefix is a character, not a LIKE wildcard.
      expect(paths(await list('pathPrefix=mix/a_'))).toEqual(['mix/a_1']);
    });

    it('should show a service with a grant on acme/prod/* only those credentials, and count only them', async () => {
      for (const path of [
        'acme/prod/visible-1',
        'acme/prod/visible-2',
        'acme/prod/deep/hidden',
        'acme/staging/hidden',
        'acmeprod/hidden',
      ]) {
        await createCredential(sut, admin, { path });
      }
      const scoped = await service([{ pathPattern: 'acme/prod/*', capabilities: ['read'] }]);
      const everything = await list('limit=200');
      const expected = paths(everything).filter((path) => /^acme\/prod\/[^/]+$/.test(path));
      expect(expected).toEqual(
        expect.arrayContaining(['acme/prod/visible-1', 'acme/prod/visible-2']),
      );

      const page = await list('limit=200', scoped.headers);
      expect(paths(page)).toEqual(expected);
      expect(page.total).toBe(expected.length);
      const small = await list('limit=1', scoped.headers);
      expect(small.total).toBe(expected.length);
      expect(small.items.every((item) => /^acme\/prod\/[^/]+$/.test(item.path))).toBe(true);
      const filtered = await list('pathPrefix=acme/&q=hidden', scoped.headers);
      expect(filtered).toEqual({ items: [], nextCursor: null, total: 0 });
    });

    it('should show a service without grants an empty list with total 0', async () => {
      const nobody = await service([]);
      expect(await list('', nobody.headers)).toEqual({ items: [], nextCursor: null, total: 0 });
      expect(await list('pathPrefix=catalog/', nobody.headers)).toEqual({
        items: [],
        nextCursor: null,
        total: 0,
      });
    });

    it('should list soft-deleted credentials only when asked with deleted=true', async () => {
      const trashed = await createCredential(sut, admin, { path: 'catalog-trash/zeta' });
      await createCredential(sut, admin, { path: 'catalog-trash/eta' });
      await sut.http.delete(`${API}/credentials/${trashed.id}`).set(admin).expect(204);

      expect(paths(await list('pathPrefix=catalog-trash/'))).toEqual(['catalog-trash/eta']);
      const deleted = await list('pathPrefix=catalog-trash/&deleted=true');
      expect(deleted.total).toBe(1);
      expect(deleted.items).toEqual([
        expect.objectContaining({
          id: trashed.id,
          status: 'deleted',
          deletedAt: expect.any(String),
        }),
      ]);
    });
  });

  describe("another client's service (object-level authorization)", () => {
    let victim: CredentialMetadata;
    let owner: Headers;
    let intruder: Headers;
    const original = { password: 'client-one-db-password' };

    beforeAll(async () => {
      victim = await createCredential(sut, admin, {
        path: 'client-one/prod/db',
        secret: original,
        tags: ['client-one'],
      });
      const all = ['read', 'reveal', 'write', 'rotate', 'delete'];
      owner = (await service([{ pathPattern: 'client-one/**', capabilities: all }])).headers;
      intruder = (await service([{ pathPattern: 'other/**', capabilities: all }])).headers;
    });

    const routes = (id: string): [Method, string, object?][] => [
      ['GET', `/credentials/${id}`],
      ['PATCH', `/credentials/${id}`, { name: 'hijacked', tags: ['pwned'] }],
      ['DELETE', `/credentials/${id}`],
      ['PUT', `/credentials/${id}/secret`, { secret: { password: 'hijacked' } }],
      ['GET', `/credentials/${id}/versions`],
      ['POST', `/credentials/${id}/reveal`, {}],
      ['POST', `/credentials/${id}/restore`],
    ];

    it('should answer 404 on every route with its id, exactly as for a missing credential', async () => {
      const before = (await sut.http.get(`${API}/credentials/${victim.id}`).set(admin).expect(200))
        .body;
      const missing = await Promise.all(
        routes(MISSING_ID).map(([method, url, body]) => call(method, url, intruder, body)),
      );
      for (const [index, [method, url, body]] of routes(victim.id).entries()) {
        const response = await call(method, url, intruder, body);
        expect({ route: `${method} ${url}`, status: response.status }).toEqual({
          route: `${method} ${url}`,
          status: 404,
        });
        expect(response.body.message).toBe(missing[index].body.message);
      }
      const byPath = await call('GET', '/secrets/client-one/prod/db', intruder);
      expect(byPath.status).toBe(404);
      expect(byPath.body.message).toBe(
        (await call('GET', '/secrets/client-one/prod/nothing', intruder)).body.message,
      );

      const after = (await sut.http.get(`${API}/credentials/${victim.id}`).set(admin).expect(200))
        .body;
      expect(after).toEqual(before);
      expect((await versionsOf(victim.id)).map((v) => [v.version, v.state])).toEqual([
        [1, 'current'],
      ]);
      expect(await revealedSecret(victim.id)).toEqual(original);
      expect(await auditEvents('credential.reveal', victim.id)).toHaveLength(1);
    });

    it('should let the owning service do what the intruder could not', async () => {
      await sut.http.get(`${API}/credentials/${victim.id}`).set(owner).expect(200);
      const revealed = await reveal(owner, victim.id).expect(200);
      expect(revealed.body.secret).toEqual(original);
      await sut.http.get(`${API}/secrets/client-one/prod/db`).set(owner).expect(200);
    });

    it("should keep the credential out of the intruder's list", async () => {
      expect(await list('limit=200', intruder)).toEqual({ items: [], nextCursor: null, total: 0 });
    });
  });

  describe('404 or 403', () => {
    let credential: CredentialMetadata;
    const secret = { apiKey: 'perm-api-key-value' };

    beforeAll(async () => {
      credential = await createCredential(sut, admin, {
        path: 'perm/app/key',
        type: 'api_key',
        secret,
      });
    });

    it('should answer 403 to a service with only read on the path, except to read it', async () => {
      const reader = (await service([{ pathPattern: 'perm/**', capabilities: ['read'] }])).headers;
      const id = credential.id;
      expect((await call('GET', `/credentials/${id}`, reader)).status).toBe(200);
      expect((await call('GET', `/credentials/${id}/versions`, reader)).status).toBe(200);
      const refused: [Method, string, object?][] = [
        ['POST', `/credentials/${id}/reveal`, {}],
        ['PUT', `/credentials/${id}/secret`, { secret: { apiKey: 'changed' } }],
        ['PATCH', `/credentials/${id}`, { name: 'changed' }],
        ['DELETE', `/credentials/${id}`],
      ];
      for (const [method, url, body] of refused) {
        const response = await call(method, url, reader, body);
        expect({ route: `${method} ${url}`, status: response.status }).toEqual({
          route: `${method} ${url}`,
          status: 403,
        });
      }
      expect((await call('GET', '/secrets/perm/app/key', reader)).status).toBe(403);
      const after = (await sut.http.get(`${API}/credentials/${id}`).set(admin).expect(200)).body;
      expect(after).toMatchObject({ name: credential.name, currentVersion: 1, status: 'active' });
    });

    it('should refuse a viewer a reveal with 403', async () => {
      await reveal(viewer, credential.id).expect(403);
      await sut.http.get(`${API}/credentials/${credential.id}`).set(viewer).expect(200);
    });

    it('should refuse to give an auditor reveal, and refuse the auditor a reveal', async () => {
      const me = await sut.http.get(`${API}/auth/me`).set(auditor).expect(200);
      await sut.http
        .post(`${API}/grants`)
        .set(admin)
        .send({
          principalType: 'user',
          principalId: me.body.id,
          pathPattern: 'perm/**',
          capabilities: ['read', 'reveal'],
        })
        .expect(400);
      await reveal(auditor, credential.id, { reason: 'audit' }).expect(403);
      await sut.http.get(`${API}/credentials/${credential.id}`).set(auditor).expect(200);
    });

    it('should let an operator reveal but not delete', async () => {
      const revealed = await reveal(operator, credential.id).expect(200);
      expect(revealed.body.secret).toEqual(secret);
      await sut.http.delete(`${API}/credentials/${credential.id}`).set(operator).expect(403);
      await sut.http.get(`${API}/credentials/${credential.id}`).set(admin).expect(200);
    });

    it('should need write on the path to create a credential', async () => {
      const before = await rowCount('credentials');
      const reader = (await service([{ pathPattern: 'perm/**', capabilities: ['read'] }])).headers;
      const writer = (await service([{ pathPattern: 'perm/**', capabilities: ['write'] }])).headers;
      const body = (path: string) => ({
        path,
        name: path,
        type: 'password',
        secret: { password: 'x' },
      });
      for (const headers of [viewer, auditor, reader]) {
        await sut.http
          .post(`${API}/credentials`)
          .set(headers)
          .send(body('perm/new/one'))
          .expect(403);
      }
      await sut.http.post(`${API}/credentials`).set(writer).send(body('elsewhere/x')).expect(403);
      expect(await rowCount('credentials')).toBe(before);
      await sut.http.post(`${API}/credentials`).set(writer).send(body('perm/new/one')).expect(201);
      await sut.http
        .post(`${API}/credentials`)
        .set(operator)
        .send(body('perm/new/two'))
        .expect(201);
    });
  });

  describe('check-and-set with If-Match', () => {
    it('should apply the first change and refuse the second with the same If-Match with 412', async () => {
      const credential = await createCredential(sut, admin, { path: 'cas/sequential' });
      const first = await putSecret(credential.id, { password: 'first' }, '1').expect(200);
      expect(first.body.currentVersion).toBe(2);
      const second = await putSecret(credential.id, { password: 'second' }, '1').expect(412);
      expect(canariesIn(second.body, ['second'])).toEqual([]);
      expect(await revealedSecret(credential.id)).toEqual({ password: 'first' });
      await putSecret(credential.id, { password: 'third' }, '"2"').expect(200);
      expect(await revealedSecret(credential.id)).toEqual({ password: 'third' });
    });

    it('should let exactly one of several parallel changes with the same If-Match through', async () => {
      const credential = await createCredential(sut, admin, { path: 'cas/parallel' });
      const values = [1, 2, 3, 4, 5].map((n) => `racer-${n}`);
      const responses = await Promise.all(
        values.map((password) =>
          sut.app.inject({
            method: 'PUT',
            url: `${API}/credentials/${credential.id}/secret`,
            headers: { ...admin, 'if-match': '1' },
            payload: { secret: { password } },
          }),
        ),
      );
      const statuses = responses.map((response) => response.statusCode);
      expect(statuses.filter((status) => status === 200)).toHaveLength(1);
      expect(statuses.filter((status) => status === 412)).toHaveLength(values.length - 1);
      const winner = values[statuses.indexOf(200)];
      expect(await revealedSecret(credential.id)).toEqual({ password: winner });
      expect((await versionsOf(credential.id)).map((v) => [v.version, v.state])).toEqual([
        [2, 'current'],
        [1, 'previous'],
      ]);
    });
  });

  describe('concurrent changes', () => {
    const inParallel = (
      count: number,
      request: (n: number) => Parameters<TestApp['app']['inject']>[0],
    ) => Promise.all(Array.from({ length: count }, (_, n) => sut.app.inject(request(n))));

    it('should number parallel changes without If-Match one after the other', async () => {
      const credential = await createCredential(sut, admin, { path: 'concurrent/unconditional' });
      const responses = await inParallel(5, (n) => ({
        method: 'PUT',
        url: `${API}/credentials/${credential.id}/secret`,
        headers: admin,
        payload: { secret: passwordNumber(n) },
      }));
      expect(responses.map((response) => response.statusCode)).toEqual([200, 200, 200, 200, 200]);
      const numbers = responses.map(
        (response) => response.json<{ currentVersion: number }>().currentVersion,
      );
      expect([...numbers].sort()).toEqual([2, 3, 4, 5, 6]);
      const versions = await versionsOf(credential.id);
      expect(versions.map((v) => [v.version, v.state])).toEqual([
        [6, 'current'],
        [5, 'previous'],
        [4, 'revoked'],
        [3, 'revoked'],
        [2, 'revoked'],
        [1, 'revoked'],
      ]);
      const last = numbers.indexOf(6);
      expect(await revealedSecret(credential.id)).toEqual(passwordNumber(last));
    });

    it('should create only one of several parallel credentials at the same path, and answer 409 to the others', async () => {
      const responses = await inParallel(5, (n) => ({
        method: 'POST',
        url: `${API}/credentials`,
        headers: admin,
        payload: {
          path: 'concurrent/same-path',
          name: `racer ${n}`,
          type: 'password',
          secret: passwordNumber(n),
        },
      }));
      const statuses = responses.map((response) => response.statusCode).sort();
      expect(statuses).toEqual([201, 409, 409, 409, 409]);
      expect((await list('pathPrefix=concurrent/same-path')).total).toBe(1);
    });

    it('should create many tagged credentials at once without a 500', async () => {
      const responses = await inParallel(30, (n) => ({
        method: 'POST',
        url: `${API}/credentials`,
        headers: admin,
        payload: {
          path: `concurrent/tagged/db-${n}`,
          name: `tagged ${n}`,
          type: 'password',
          tags: ['prod', 'mysql'],
          secret: passwordNumber(n),
        },
      }));
      expect(responses.map((response) => response.statusCode)).toEqual(Array(30).fill(201));
      expect((await list('pathPrefix=concurrent/tagged/&tag=mysql')).total).toBe(30);
    });

    it('should change the tags of many credentials at once without a 500', async () => {
      const { items } = await list('pathPrefix=concurrent/tagged/&limit=30');
      expect(items).toHaveLength(30);
      const responses = await inParallel(30, (n) => ({
        method: 'PATCH',
        url: `${API}/credentials/${items[n].id}`,
        headers: admin,
        payload: { tags: ['prod', 'mariadb', `n${n}`] },
      }));
      expect(responses.map((response) => response.statusCode)).toEqual(Array(30).fill(200));
      expect((await list('pathPrefix=concurrent/tagged/&tag=mariadb')).total).toBe(30);
      expect((await list('pathPrefix=concurrent/tagged/&tag=mysql')).total).toBe(0);
    });
  });

  describe('versions and their states', () => {
    it('should keep the old value revealable as previous for the grace period, and revoke the one before', async () => {
      const credential = await createCredential(sut, admin, {
        path: 'versions/history',
        secret: passwordNumber(1),
      });
      const changedAt = Date.now();
      await putSecret(credential.id, passwordNumber(2)).expect(200);
      await putSecret(credential.id, passwordNumber(3)).expect(200);

      const versions = await versionsOf(credential.id);
      expect(versions).toEqual([
        expect.objectContaining({ version: 3, state: 'current', revealable: true }),
        expect.objectContaining({
          version: 2,
          state: 'previous',
          revealable: true,
          graceUntil: expect.any(String),
        }),
        expect.objectContaining({
          version: 1,
          state: 'revoked',
          revealable: false,
          revokedAt: expect.any(String),
        }),
      ]);
      const grace = Date.parse(versions[1].graceUntil!) - changedAt;
      expect(grace).toBeGreaterThan(23.9 * 3600_000);
      expect(grace).toBeLessThan(24.1 * 3600_000);

      const previous = await reveal(admin, credential.id, { version: 2 }).expect(200);
      expect(previous.body).toMatchObject({
        version: 2,
        state: 'previous',
        secret: passwordNumber(2),
      });
      await reveal(admin, credential.id, { version: 1 }).expect(409);
      await reveal(admin, credential.id, { version: 99 }).expect(404);
      expect(await revealedSecret(credential.id)).toEqual(passwordNumber(3));
    });

    describe('with no grace period (CREDENTIALS_PREVIOUS_GRACE=PT0S)', () => {
      let variant: TestApp;

      beforeAll(async () => {
        variant = await startVariant({ CREDENTIALS_PREVIOUS_GRACE: 'PT0S' });
      });

      afterAll(async () => {
        await variant?.close();
      });

      it('should make the previous version unrevealable at once', async () => {
        const credential = await createCredential(variant, admin, {
          path: 'versions/no-grace',
          secret: passwordNumber(1),
        });
        await putSecret(credential.id, passwordNumber(2), undefined, variant).expect(200);
        await reveal(admin, credential.id, { version: 1 }, variant).expect(409);
        const versions = await versionsOf(credential.id, variant);
        expect(versions[1]).toMatchObject({ version: 1, state: 'revoked', revealable: false });
        expect(await revealedSecret(credential.id, variant)).toEqual(passwordNumber(2));
      });
    });

    describe('with CREDENTIALS_MAX_VERSIONS=3', () => {
      let variant: TestApp;

      beforeAll(async () => {
        variant = await startVariant({ CREDENTIALS_MAX_VERSIONS: '3' });
      });

      afterAll(async () => {
        await variant?.close();
      });

      it('should keep 3 versions after 6 changes, the current one among them, and never reuse a number', async () => {
        const credential = await createCredential(variant, admin, {
          path: 'versions/pruned',
          secret: passwordNumber(1),
        });
        for (let n = 2; n <= 7; n++) {
          await putSecret(credential.id, passwordNumber(n), undefined, variant).expect(200);
        }
        const versions = await versionsOf(credential.id, variant);
        expect(versions.map((v) => [v.version, v.state])).toEqual([
          [7, 'current'],
          [6, 'previous'],
          [5, 'revoked'],
        ]);
        const stored = await db.query<{ version: number }[]>(
          'SELECT version FROM credential_versions WHERE credential_id = ? ORDER BY version',
          [credential.id],
        );
        expect(stored.map((row) => row.version)).toEqual([5, 6, 7]);
        await reveal(admin, credential.id, { version: 1 }, variant).expect(404);

        const next = await putSecret(credential.id, passwordNumber(8), undefined, variant).expect(
          200,
        );
        expect(next.body.currentVersion).toBe(8);
        expect((await versionsOf(credential.id, variant)).map((v) => v.version)).toEqual([8, 7, 6]);
        expect(await revealedSecret(credential.id, variant)).toEqual(passwordNumber(8));
      });
    });
  });

  describe('soft delete, restore and destroy', () => {
    let reader: Headers;

    beforeAll(async () => {
      reader = (await service([{ pathPattern: 'life/**', capabilities: ['read', 'reveal'] }]))
        .headers;
    });

    const expectGone = async (credential: CredentialMetadata) => {
      await sut.http.get(`${API}/credentials/${credential.id}`).set(admin).expect(404);
      await reveal(admin, credential.id).expect(404);
      await sut.http.get(`${API}/secrets/${credential.path}`).set(reader).expect(404);
      expect((await list('pathPrefix=life/')).items.map((item) => item.id)).not.toContain(
        credential.id,
      );
    };

    it('should hide a soft-deleted credential everywhere until it is restored', async () => {
      const credential = await createCredential(sut, admin, {
        path: 'life/soft',
        secret: { password: 'life-soft' },
      });
      await sut.http.delete(`${API}/credentials/${credential.id}`).set(admin).expect(204);
      await expectGone(credential);
      await sut.http.delete(`${API}/credentials/${credential.id}`).set(admin).expect(404);
      await sut.http
        .patch(`${API}/credentials/${credential.id}`)
        .set(admin)
        .send({ name: 'renamed while deleted' })
        .expect(404);
      await putSecret(credential.id, { password: 'changed while deleted' }).expect(404);

      const restored = await sut.http
        .post(`${API}/credentials/${credential.id}/restore`)
        .set(admin)
        .expect(200);
      expect(restored.body).toMatchObject({
        status: 'active',
        deletedAt: null,
        name: credential.name,
        currentVersion: 1,
      });
      expect(await revealedSecret(credential.id)).toEqual({ password: 'life-soft' });
      await sut.http.get(`${API}/secrets/life/soft`).set(reader).expect(200);
      await sut.http.post(`${API}/credentials/${credential.id}/restore`).set(admin).expect(409);
    });

    it('should crypto-shred every version on destroy and answer 404 everywhere after', async () => {
      const credential = await createCredential(sut, admin, { path: 'life/destroyed' });
      await putSecret(credential.id, { password: 'second value' }).expect(200);
      const sealed = `SELECT version, state, ciphertext, iv, tag, wrapped_dek
        FROM credential_versions WHERE credential_id = ? ORDER BY version`;
      const before = await db.query<Record<string, unknown>[]>(sealed, [credential.id]);
      expect(before).toHaveLength(2);
      for (const row of before) expect(row.ciphertext).not.toBeNull();

      await sut.http.post(`${API}/credentials/${credential.id}/destroy`).set(admin).expect(204);

      await expectGone(credential);
      await sut.http.get(`${API}/credentials/${credential.id}/versions`).set(admin).expect(404);
      await sut.http.post(`${API}/credentials/${credential.id}/restore`).set(admin).expect(404);
      await sut.http.post(`${API}/credentials/${credential.id}/destroy`).set(admin).expect(404);
      expect((await list('pathPrefix=life/&deleted=true')).items).toEqual([]);
      expect(await db.query(sealed, [credential.id])).toEqual(
        [1, 2].map((version) => ({
          version,
          state: 'destroyed',
          ciphertext: null,
          iv: null,
          tag: null,
          wrapped_dek: null,
        })),
      );
    });

    it('should destroy a soft-deleted credential too', async () => {
      const credential = await createCredential(sut, admin, {
        path: 'life/deleted-then-destroyed',
      });
      await sut.http.delete(`${API}/credentials/${credential.id}`).set(admin).expect(204);
      await sut.http.post(`${API}/credentials/${credential.id}/destroy`).set(admin).expect(204);
      await sut.http.post(`${API}/credentials/${credential.id}/restore`).set(admin).expect(404);
      const rows = await db.query<Record<string, unknown>[]>(
        'SELECT state, ciphertext FROM credential_versions WHERE credential_id = ?',
        [credential.id],
      );
      expect(rows).toEqual([{ state: 'destroyed', ciphertext: null }]);
    });

    it('should free the path of a destroyed credential for a new one', async () => {
      const first = await createCredential(sut, admin, { path: 'life/reused' });
      await sut.http.post(`${API}/credentials/${first.id}/destroy`).set(admin).expect(204);
      const second = await createCredential(sut, admin, { path: 'life/reused' });
      expect(second.id).not.toBe(first.id);
      await sut.http.get(`${API}/credentials/${first.id}`).set(admin).expect(404);
      const events = await sut.http
        .get(`${API}/audit/events?action=credential.destroy&resourceId=${first.id}&outcome=success`)
        .set(admin)
        .expect(200);
      expect(events.body.items[0].details).toMatchObject({ path: 'life/reused' });
    });

    it('should refuse destroy to an operator with 403', async () => {
      const credential = await createCredential(sut, admin, {
        path: 'life/kept',
        secret: { password: 'life-kept' },
      });
      await sut.http.post(`${API}/credentials/${credential.id}/destroy`).set(operator).expect(403);
      expect(await revealedSecret(credential.id)).toEqual({ password: 'life-kept' });
    });
  });

  describe('reveal reason', () => {
    it('should record every reveal in the audit log with its version and reason', async () => {
      const credential = await createCredential(sut, admin, { path: 'reason/audited' });
      await reveal(admin, credential.id, { reason: 'checking the audit trail' }).expect(200);
      await reveal(operator, credential.id).expect(200);
      const events = await auditEvents('credential.reveal', credential.id);
      expect(events).toHaveLength(2);
      expect(events.map((event) => event.details)).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ version: 1, reason: 'checking the audit trail' }),
          expect.objectContaining({ version: 1 }),
        ]),
      );
    });

    describe('when required (REVEAL_REASON_REQUIRED=true)', () => {
      let variant: TestApp;
      let credential: CredentialMetadata;

      beforeAll(async () => {
        variant = await startVariant({ REVEAL_REASON_REQUIRED: 'true' });
        credential = await createCredential(variant, admin, {
          path: 'reason/required',
          secret: { password: 'reason-required' },
        });
      });

      afterAll(async () => {
        await variant?.close();
      });

      it('should refuse a person without a reason with 400, and audit the reason given', async () => {
        await reveal(admin, credential.id, {}, variant).expect(400);
        await reveal(operator, credential.id, {}, variant).expect(400);
        expect(await auditEvents('credential.reveal', credential.id)).toEqual([]);

        const revealed = await reveal(admin, credential.id, { reason: 'INC-42 triage' }, variant);
        expect(revealed.status).toBe(200);
        expect(revealed.body.secret).toEqual({ password: 'reason-required' });
        const events = await auditEvents('credential.reveal', credential.id);
        expect(events).toHaveLength(1);
        expect(events[0].details).toMatchObject({ version: 1, reason: 'INC-42 triage' });
      });

      it('should never ask a service for a reason', async () => {
        const { headers } = await service(
          [{ pathPattern: 'reason/*', capabilities: ['read', 'reveal'] }],
          variant,
        );
        const revealed = await reveal(headers, credential.id, {}, variant).expect(200);
        expect(revealed.body.secret).toEqual({ password: 'reason-required' });
        await variant.http.get(`${API}/secrets/reason/required`).set(headers).expect(200);
      });

      it('should not let a person read by path without a reason either', async () => {
        const refused = await variant.http
          .get(`${API}/secrets/reason/required`)
          .set(admin)
          .expect(400);
        expect(refused.body.message).toContain('POST /credentials/{id}/reveal');
        expect(canariesIn(refused.body, ['reason-required'])).toEqual([]);
      });
    });
  });

  describe('validation', () => {
    let existing: CredentialMetadata;

    beforeAll(async () => {
      existing = await createCredential(sut, admin, { path: 'valid/existing' });
    });

    const valid = {
      path: 'valid/new',
      name: 'New',
      type: 'password',
      secret: { password: 'valid-new' },
    };

    it.each([
      ['an unknown field', { ...valid, color: 'red' }, 'color'],
      ['an unknown secret field', { ...valid, secret: { password: 'x', pin: '1' } }, 'secret'],
      ['an unknown type', { ...valid, type: 'passkey' }, 'type'],
      ['a secret of another type', { ...valid, secret: { apiKey: 'x' } }, 'secret'],
      ['a secret that is a string', { ...valid, secret: 'valid-new' }, 'secret'],
      ['an upper-case path', { ...valid, path: 'Valid/New' }, 'path'],
      ['a path with an empty segment', { ...valid, path: 'valid//new' }, 'path'],
      ['a path with ..', { ...valid, path: 'valid/../new' }, 'path'],
      ['a path with a trailing slash', { ...valid, path: 'valid/new/' }, 'path'],
      ['metadata over 8 KiB', { ...valid, metadata: { blob: 'x'.repeat(9000) } }, 'metadata'],
      [
        'metadata nested too deep',
        { ...valid, metadata: { a: { b: { c: { d: { e: { f: 1 } } } } } } },
        'metadata',
      ],
      ['metadata that is an array', { ...valid, metadata: ['x'] }, 'metadata'],
      ['a bad tag', { ...valid, tags: ['Not A Tag'] }, 'tags'],
      ['a port out of range', { ...valid, port: 70000 }, 'port'],
      ['an expiry that is not a date', { ...valid, expiresAt: 'tomorrow' }, 'expiresAt'],
    ])(
      'should refuse a credential with %s with 400 and create nothing',
      async (_case, body, field) => {
        const before = await Promise.all([
          rowCount('credentials'),
          rowCount('credential_versions'),
        ]);
        const refused = await sut.http.post(`${API}/credentials`).set(admin).send(body).expect(400);
        expect(refused.body.fields.map((f: { field: string }) => f.field.split('.')[0])).toContain(
          field,
        );
        expect(
          await Promise.all([rowCount('credentials'), rowCount('credential_versions')]),
        ).toEqual(before);
      },
    );

    it('should accept the most tags of the longest length the API allows', async () => {
      const tags = Array.from(
        { length: 20 },
        (_, n) => `${String(n).padStart(2, '0')}${'t'.repeat(48)}`,
      );
      const created = await sut.http
        .post(`${API}/credentials`)
        .set(admin)
        .send({ ...valid, path: 'valid/many-tags', tags })
        .expect(201);
      expect(created.body.tags).toEqual(tags);
      const found = await list(`tag=${tags[19]}`);
      expect(found.items.map((item) => item.id)).toEqual([created.body.id]);
    });

    it('should refuse a secret over 60,000 bytes with 400 and create nothing', async () => {
      const before = await rowCount('credentials');
      const refused = await sut.http
        .post(`${API}/credentials`)
        .set(admin)
        .send({
          ...valid,
          path: 'valid/huge',
          type: 'shared_secret',
          secret: { secret: 'canary-huge-'.padEnd(60_500, 'x') },
        })
        .expect(400);
      expect(canariesIn(refused.body, ['canary-huge-'])).toEqual([]);
      expect(await rowCount('credentials')).toBe(before);
    });

    it.each([
      ['name', { name: null }],
      ['path', { path: null }],
    ])('should refuse to clear the %s of a credential with 400', async (_field, body) => {
      await sut.http.patch(`${API}/credentials/${existing.id}`).set(admin).send(body).expect(400);
      const after = await sut.http.get(`${API}/credentials/${existing.id}`).set(admin).expect(200);
      expect(after.body).toMatchObject({ path: existing.path, name: existing.name });
    });

    it('should need write on the new path to move a credential there', async () => {
      const { headers } = await service([
        { pathPattern: 'move/a/**', capabilities: ['read', 'write'] },
      ]);
      const credential = await createCredential(sut, admin, { path: 'move/a/one' });
      await sut.http
        .patch(`${API}/credentials/${credential.id}`)
        .set(headers)
        .send({ path: 'move/b/one' })
        .expect(403);
      const moved = await sut.http
        .patch(`${API}/credentials/${credential.id}`)
        .set(headers)
        .send({ path: 'move/a/two' })
        .expect(200);
      expect(moved.body.path).toBe('move/a/two');
    });

    it('should refuse a path that is taken with 409 and create nothing', async () => {
      const before = await Promise.all([rowCount('credentials'), rowCount('credential_versions')]);
      await sut.http
        .post(`${API}/credentials`)
        .set(admin)
        .send({ ...valid, path: existing.path })
        .expect(409);
      const other = await createCredential(sut, admin, { path: 'valid/other' });
      await sut.http
        .patch(`${API}/credentials/${other.id}`)
        .set(admin)
        .send({ path: existing.path })
        .expect(409);
      expect(await rowCount('credentials')).toBe(before[0] + 1);
      expect(await rowCount('credential_versions')).toBe(before[1] + 1);
    });

    it('should refuse unknown fields in the other bodies with 400', async () => {
      const id = existing.id;
      await sut.http.patch(`${API}/credentials/${id}`).set(admin).send({ secret: {} }).expect(400);
      await sut.http
        .put(`${API}/credentials/${id}/secret`)
        .set(admin)
        .send({ secret: { password: 'x' }, version: 3 })
        .expect(400);
      await sut.http
        .put(`${API}/credentials/${id}/secret`)
        .set(admin)
        .send({ secret: { apiKey: 'not the shape of a password' } })
        .expect(400);
      await reveal(admin, id, { all: true }).expect(400);
      await reveal(admin, id, { version: '1' }).expect(400);
      expect(await versionsOf(id)).toHaveLength(1);
    });

    it.each(['abc', '1,2', '-1', '1.5', 'W/"x"'])(
      'should refuse If-Match %p with 400 and change nothing',
      async (ifMatch) => {
        await putSecret(existing.id, { password: 'changed' }, ifMatch).expect(400);
        expect(await versionsOf(existing.id)).toHaveLength(1);
      },
    );

    it('should refuse an id that is not a UUID with 400 on every route', async () => {
      const routes: [Method, string, object?][] = [
        ['GET', '/credentials/not-a-uuid'],
        ['PATCH', '/credentials/not-a-uuid', { name: 'x' }],
        ['DELETE', '/credentials/not-a-uuid'],
        ['PUT', '/credentials/not-a-uuid/secret', { secret: { password: 'x' } }],
        ['GET', '/credentials/not-a-uuid/versions'],
        ['POST', '/credentials/not-a-uuid/reveal', {}],
        ['POST', '/credentials/not-a-uuid/restore'],
        ['POST', '/credentials/not-a-uuid/destroy'],
        ['GET', '/credentials/12345'],
      ];
      for (const [method, url, body] of routes) {
        const response = await call(method, url, admin, body);
        expect({ route: `${method} ${url}`, status: response.status }).toEqual({
          route: `${method} ${url}`,
          status: 400,
        });
      }
    });

    it.each([
      ['an unknown parameter', 'sort=path'],
      ['a limit over the maximum', 'limit=201'],
      ['a limit of 0', 'limit=0'],
      ['an unknown type', 'type=passkey'],
      ['a bad cursor', 'cursor=not%20a%20cursor'],
      ['a bad expiringBefore', 'expiringBefore=soon'],
      ['a pathPrefix with upper case', 'pathPrefix=ACME/'],
    ])('should refuse a list query with %s with 400', async (_case, query) => {
      await sut.http.get(`${API}/credentials?${query}`).set(admin).expect(400);
    });
  });

  describe('GET /secrets/<path>', () => {
    let credential: CredentialMetadata;

    beforeAll(async () => {
      credential = await createCredential(sut, admin, {
        path: 'acme/prod/db',
        secret: { password: 'acme-prod-db-v1' },
      });
      await putSecret(credential.id, { password: 'acme-prod-db-v2' }).expect(200);
    });

    it('should give a service with reveal the current secret', async () => {
      const { headers } = await service([
        { pathPattern: 'acme/prod/*', capabilities: ['read', 'reveal'] },
      ]);
      const response = await sut.http.get(`${API}/secrets/acme/prod/db`).set(headers).expect(200);
      expect(response.body).toEqual({
        id: credential.id,
        path: 'acme/prod/db',
        type: 'password',
        version: 2,
        state: 'current',
        secret: { password: 'acme-prod-db-v2' },
      });
      const events = await auditEvents('credential.reveal', credential.id);
      expect(events).toHaveLength(1);
      expect(events[0].details).toMatchObject({ path: 'acme/prod/db', version: 2 });
    });

    it('should refuse a service with only read with 403', async () => {
      const { headers } = await service([{ pathPattern: 'acme/prod/*', capabilities: ['read'] }]);
      await sut.http.get(`${API}/secrets/acme/prod/db`).set(headers).expect(403);
    });

    it('should answer 404 for a path that holds nothing', async () => {
      const { headers } = await service([
        { pathPattern: 'acme/**', capabilities: ['read', 'reveal'] },
      ]);
      await sut.http.get(`${API}/secrets/acme/prod/nothing-here`).set(headers).expect(404);
      await sut.http.get(`${API}/secrets/acme`).set(headers).expect(404);
    });
  });
});
