import { DataSource } from 'typeorm';
import { ScratchDatabase } from '../src/database/cli/scratch-database';
import { eventsOfRequest, openDirect } from './helpers/audit-db';
import { createCredential, Headers } from './helpers/credential-fixtures';
import { bearerFor, scratchMariadb, startApp, TestApp } from './helpers/test-app';

const API = '/api/v1';
/** 2,400 levels in 14 KB: what overflowed the stack in class-transformer. */
const DEEP = `${'['.repeat(2400)}1${']'.repeat(2400)}`;
const MISSING_ID = '2f1c7a52-3f0e-4f43-9f55-1f4a4c3f8b11';
const ADMIN = { as: 'admin' };

describe('Bad input never answers 500 (MariaDB)', () => {
  let database: ScratchDatabase;
  let db: DataSource;
  let sut: TestApp;
  let admin: Headers;
  let counter = 0;
  const rid = (name: string) => `input-${name}-${++counter}`;

  beforeAll(async () => {
    database = await scratchMariadb();
    sut = await startApp(database, {
      env: { THROTTLE_LIMIT: '100000', LOGIN_THROTTLE_LIMIT: '100000' },
    });
    db = await openDirect(database);
    admin = { authorization: await bearerFor(sut, 'admin') };
  });

  afterAll(async () => {
    await sut?.close();
    await db?.destroy();
    await database?.drop();
  });

  describe('deeply nested JSON', () => {
    it.each([
      ['an unauthenticated login', 'post', '/auth/login', `{"email":${DEEP},"password":"x"}`, {}],
      ['a credential write', 'post', '/credentials', `{"path":"a/b","secret":${DEEP}}`, ADMIN],
      ['a user change', 'patch', `/users/${MISSING_ID}`, `{"role":${DEEP}}`, ADMIN],
    ] as const)(
      'should refuse it on %s with a 400 naming the body',
      async (_case, method, path, body, who) => {
        const id = rid('deep');
        const response = await sut.http[method](`${API}${path}`)
          .set(who === ADMIN ? admin : {})
          .set('x-request-id', id)
          .set('content-type', 'application/json')
          .send(body)
          .expect(400);
        expect(response.body.fields).toEqual([
          { field: '(body)', errors: ['the body is nested deeper than 32 levels'] },
        ]);
        await waitFor(async () => (await eventsOfRequest(db, id)).length === 1);
      },
    );
  });

  describe('null for a required field', () => {
    it('should refuse a null role or status and leave the user as it was', async () => {
      const created = await sut.http
        .post(`${API}/users`)
        .set(admin)
        .send({
          email: `nulls-${Date.now()}@example.test`,
          password: 'Tq8!long-enough-pw',
          role: 'viewer',
        })
        .expect(201);
      for (const payload of [{ role: null }, { status: null }]) {
        await sut.http
          .patch(`${API}/users/${created.body.id}`)
          .set(admin)
          .send(payload)
          .expect(400);
      }
      const [row] = await db.query<{ role: string; status: string }[]>(
        'SELECT role, status FROM users WHERE id = ?',
        [created.body.id],
      );
      expect(row).toEqual({ role: 'viewer', status: 'active' });
    });
  });

  describe('prototype-named fields', () => {
    it.each(['constructor', 'toString', 'valueOf', 'hasOwnProperty'])(
      'should refuse %s inside a secret and store nothing',
      async (key) => {
        const path = `proto/${key.toLowerCase()}`;
        const response = await sut.http
          .post(`${API}/credentials`)
          .set(admin)
          .set('content-type', 'application/json')
          .send(
            `{"path":"${path}","name":"n","type":"password","secret":{"password":"p4ss-w0rd-long","${key}":"x"}}`,
          )
          .expect(400);
        expect(response.body.fields).toEqual([
          { field: `secret.${key}`, errors: [`property ${key} should not exist`] },
        ]);
        expect(await db.query('SELECT id FROM credentials WHERE path = ?', [path])).toEqual([]);
      },
    );
  });

  describe('lists', () => {
    it.each(['/credentials', '/users', '/service-accounts'])(
      'should refuse a garbage cursor on %s',
      async (path) => {
        const response = await sut.http.get(`${API}${path}?cursor=garbage`).set(admin).expect(400);
        expect(response.body.fields).toEqual([{ field: 'cursor', errors: expect.any(Array) }]);
      },
    );

    it('should page service accounts by name with limit and cursor', async () => {
      for (const name of ['pager-c', 'pager-a', 'pager-b']) {
        await sut.http.post(`${API}/service-accounts`).set(admin).send({ name }).expect(201);
      }
      const names: string[] = [];
      let cursor: string | null = null;
      do {
        const query: string = `limit=2${cursor ? `&cursor=${cursor}` : ''}`;
        const page = await sut.http.get(`${API}/service-accounts?${query}`).set(admin).expect(200);
        names.push(...(page.body.items as { name: string }[]).map((item) => item.name));
        cursor = page.body.nextCursor as string | null;
      } while (cursor);
      expect(names.filter((name) => name.startsWith('pager-'))).toEqual([
        'pager-a',
        'pager-b',
        'pager-c',
      ]);
      await sut.http.get(`${API}/service-accounts?status=active`).set(admin).expect(400);
    });

    it('should page users with the cursors it hands out', async () => {
      const first = await sut.http.get(`${API}/users?limit=1`).set(admin).expect(200);
      expect(first.body.nextCursor).toEqual(expect.any(String));
      const second = await sut.http
        .get(`${API}/users?limit=1&cursor=${first.body.nextCursor}`)
        .set(admin)
        .expect(200);
      expect(second.body.items[0].email > first.body.items[0].email).toBe(true);
    });
  });

  describe('empty JSON bodies', () => {
    const emptyJson = (method: 'post' | 'delete', path: string, headers: Headers = admin) =>
      sut.http[method](`${API}${path}`)
        .set(headers)
        .set('content-type', 'application/json')
        .send('');

    it('should be taken as no body where none is needed', async () => {
      const { id } = await createCredential(sut, admin, { path: 'empty-body/db' });
      await emptyJson('delete', `/credentials/${id}`).expect(204);
      const restored = await emptyJson('post', `/credentials/${id}/restore`).expect(200);
      expect(restored.body.status).toBe('active');
      await emptyJson('post', `/credentials/${id}/destroy`).expect(204);
    });

    it('should say a body is required where one is', async () => {
      const response = await emptyJson('post', '/auth/logout').expect(400);
      expect(response.body.message).toMatch(
        /^Validation failed: \(body\) \(a JSON body is required\)/,
      );
      expect(response.body.fields.map((f: { field: string }) => f.field)).toEqual([
        '(body)',
        'refreshToken',
      ]);
    });
  });
});

async function waitFor(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 50; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  expect(await check()).toBe(true);
}
