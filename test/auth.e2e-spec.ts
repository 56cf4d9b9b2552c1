import { createHmac } from 'node:crypto';
import { generate } from 'otplib';
import { AccessPolicy } from '../src/auth/grants/access-policy';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { ScratchDatabase } from '../src/database/cli/scratch-database';
import { openDirect } from './helpers/audit-db';
import { bearerFor, scratchMariadb, startApp, TestApp } from './helpers/test-app';

const JWT_SECRET = 'test-secret-for-forging-tokens-0123456789';
const STRONG = 'Violet-Harbor-Lantern-42';

interface Tokens {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  mustChangePassword: boolean;
}

describe('Auth (MariaDB)', () => {
  let database: ScratchDatabase;
  let db: DataSource;
  let sut: TestApp;
  let admin: string;
  const bearer = (token: string) => `Bearer ${token}`;
  const login = (email: string, password: string) =>
    sut.http.post('/api/v1/auth/login').send({ email, password });

  beforeAll(async () => {
    database = await scratchMariadb();
    sut = await startApp(database, {
      env: {
        JWT_SECRET,
        LOGIN_MAX_FAILURES: '3',
        LOGIN_LOCKOUT_SECONDS: '1',
        LOGIN_THROTTLE_LIMIT: '1000',
        CUSTOS_ADMIN_EMAIL: 'root@example.test',
      },
    });
    db = await openDirect(database);
  });

  afterAll(async () => {
    await sut?.close();
    await db?.destroy();
    await database?.drop();
  });

  describe('bootstrap admin', () => {
    it('should write the first admin password to a 0600 file, and require a change at first login', async () => {
      const file = join(String(sut.env.CUSTOS_DATA_DIR), 'initial-admin-password');
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const initial = readFileSync(file, 'utf8').trim();

      const first = await login('root@example.test', initial).expect(200);
      const tokens = first.body as Tokens;
      expect(tokens.mustChangePassword).toBe(true);
      const refused = await sut.http
        .get('/api/v1/users')
        .set('authorization', bearer(tokens.accessToken))
        .expect(403);
      expect(refused.body.message).toMatch(/Change your password first/);
      await sut.http
        .get('/api/v1/auth/me')
        .set('authorization', bearer(tokens.accessToken))
        .expect(200);

      await sut.http
        .post('/api/v1/auth/password')
        .set('authorization', bearer(tokens.accessToken))
        .send({ currentPassword: initial, newPassword: 'password1234' })
        .expect(400);
      await sut.http
        .post('/api/v1/auth/password')
        .set('authorization', bearer(tokens.accessToken))
        .send({ currentPassword: initial, newPassword: STRONG })
        .expect(204);
      // Every session of the user ended with the change, this one too.
      await sut.http
        .get('/api/v1/auth/me')
        .set('authorization', bearer(tokens.accessToken))
        .expect(401);
      await sut.http
        .post('/api/v1/auth/refresh')
        .send({ refreshToken: tokens.refreshToken })
        .expect(401);

      const again = (await login('root@example.test', STRONG).expect(200)).body as Tokens;
      expect(again.mustChangePassword).toBe(false);
      admin = bearer(again.accessToken);
      await sut.http.get('/api/v1/users').set('authorization', admin).expect(200);
    });
  });

  describe('users and roles', () => {
    const people: Record<string, { email: string; token: string; id: string }> = {};

    beforeAll(async () => {
      for (const role of ['operator', 'auditor', 'viewer'] as const) {
        const email = `${role}@example.test`;
        const created = await sut.http
          .post('/api/v1/users')
          .set('authorization', admin)
          .send({ email, password: STRONG, role })
          .expect(201);
        const tokens = (await login(email, STRONG).expect(200)).body as Tokens;
        people[role] = { email, id: created.body.id, token: bearer(tokens.accessToken) };
      }
    });

    it('should refuse weak passwords, unknown fields and duplicates when creating a user', async () => {
      const post = (body: object) =>
        sut.http.post('/api/v1/users').set('authorization', admin).send(body);
      await post({ email: 'weak@example.test', password: 'password1234', role: 'viewer' }).expect(
        400,
      );
      const massAssignment = await post({
        email: 'x@example.test',
        password: STRONG,
        role: 'viewer',
        status: 'active',
        id: 'mine',
      }).expect(400);
      expect(massAssignment.body.fields.map((f: { field: string }) => f.field).sort()).toEqual([
        'id',
        'status',
      ]);
      await post({ email: 'operator@example.test', password: STRONG, role: 'viewer' }).expect(409);
      await post({ email: 'y@example.test', password: STRONG, role: 'root' }).expect(400);
    });

    it('should let only admins manage users', async () => {
      for (const role of ['operator', 'auditor', 'viewer']) {
        await sut.http.get('/api/v1/users').set('authorization', people[role].token).expect(403);
        await sut.http
          .post('/api/v1/users')
          .set('authorization', people[role].token)
          .send({ email: 'z@example.test', password: STRONG, role: 'admin' })
          .expect(403);
        await sut.http
          .patch(`/api/v1/users/${people.viewer.id}`)
          .set('authorization', people[role].token)
          .send({ role: 'admin' })
          .expect(403);
      }
      await sut.http
        .get(`/api/v1/users/${people.viewer.id}`)
        .set('authorization', admin)
        .expect(200);
      await sut.http.get('/api/v1/users').expect(401);
    });

    it('should let admins and auditors read the audit log, and no one else', async () => {
      await sut.http.get('/api/v1/audit/events').set('authorization', admin).expect(200);
      await sut.http
        .get('/api/v1/audit/events')
        .set('authorization', people.auditor.token)
        .expect(200);
      await sut.http
        .post('/api/v1/audit/verify')
        .set('authorization', people.auditor.token)
        .expect(200);
      await sut.http
        .get('/api/v1/audit/events')
        .set('authorization', people.operator.token)
        .expect(403);
      await sut.http
        .get('/api/v1/audit/events/export')
        .set('authorization', people.viewer.token)
        .expect(403);
      await sut.http.get('/api/v1/audit/events').expect(401);
    });

    it('should record a refused request with who was refused', async () => {
      await sut.http
        .get('/api/v1/users')
        .set('authorization', people.viewer.token)
        .set('x-request-id', 'refused-viewer')
        .expect(403);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const [event] = await db.query<Record<string, unknown>[]>(
        "SELECT * FROM audit_events WHERE request_id = 'refused-viewer'",
      );
      expect(event).toMatchObject({
        outcome: 'denied',
        http_status: 403,
        actor_type: 'user',
        actor_id: people.viewer.id,
      });
    });

    it('should answer 400 for a bad id and 404 for an unknown one', async () => {
      await sut.http.get('/api/v1/users/not-a-uuid').set('authorization', admin).expect(400);
      await sut.http
        .get('/api/v1/users/2f1c7a52-3f0e-4f43-9f55-1f4a4c3f8b11')
        .set('authorization', admin)
        .expect(404);
    });

    it('should cut a user’s tokens at once when their role changes or they are disabled', async () => {
      const email = 'changing@example.test';
      const created = await sut.http
        .post('/api/v1/users')
        .set('authorization', admin)
        .send({ email, password: STRONG, role: 'operator' })
        .expect(201);
      const tokens = (await login(email, STRONG).expect(200)).body as Tokens;
      await sut.http
        .get('/api/v1/auth/me')
        .set('authorization', bearer(tokens.accessToken))
        .expect(200);
      await sut.http
        .patch(`/api/v1/users/${created.body.id}`)
        .set('authorization', admin)
        .send({ role: 'viewer' })
        .expect(200);
      await sut.http
        .get('/api/v1/auth/me')
        .set('authorization', bearer(tokens.accessToken))
        .expect(401);
      await sut.http
        .post('/api/v1/auth/refresh')
        .send({ refreshToken: tokens.refreshToken })
        .expect(401);

      const next = (await login(email, STRONG).expect(200)).body as Tokens;
      await sut.http
        .patch(`/api/v1/users/${created.body.id}`)
        .set('authorization', admin)
        .send({ status: 'disabled' })
        .expect(200);
      await sut.http
        .get('/api/v1/auth/me')
        .set('authorization', bearer(next.accessToken))
        .expect(401);
      const disabled = await login(email, STRONG).expect(401);
      expect(disabled.body.message).toBe('Invalid email or password');
    });

    it('should never disable, demote or delete the last active admin', async () => {
      const [{ id }] = await db.query<{ id: string }[]>(
        "SELECT id FROM users WHERE email = 'root@example.test'",
      );
      await sut.http
        .patch(`/api/v1/users/${id}`)
        .set('authorization', admin)
        .send({ role: 'viewer' })
        .expect(409);
      await sut.http
        .patch(`/api/v1/users/${id}`)
        .set('authorization', admin)
        .send({ status: 'disabled' })
        .expect(409);
      await sut.http.delete(`/api/v1/users/${id}`).set('authorization', admin).expect(409);
      await sut.http.get('/api/v1/auth/me').set('authorization', admin).expect(200);
    });
  });

  describe('tokens', () => {
    let tokens: Tokens;
    const email = 'tokens@example.test';

    beforeAll(async () => {
      await sut.http
        .post('/api/v1/users')
        .set('authorization', admin)
        .send({ email, password: STRONG, role: 'viewer' })
        .expect(201);
      tokens = (await login(email, STRONG).expect(200)).body as Tokens;
    });

    const forge = (header: object, payload: object, secret = JWT_SECRET) => {
      const encode = (part: object) => Buffer.from(JSON.stringify(part)).toString('base64url');
      const body = `${encode(header)}.${encode(payload)}`;
      return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
    };
    const claims = () =>
      JSON.parse(Buffer.from(tokens.accessToken.split('.')[1], 'base64url').toString()) as Record<
        string,
        unknown
      >;

    it.each([
      ['no header', () => undefined],
      ['a malformed token', () => 'Bearer not.a.jwt'],
      [
        'alg none',
        () =>
          bearer(
            `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${tokens.accessToken.split('.')[1]}.`,
          ),
      ],
      [
        'a wrong key',
        () =>
          bearer(
            forge({ alg: 'HS256', typ: 'JWT' }, claims(), 'another-secret-another-secret-0000'),
          ),
      ],
      [
        'an expired token',
        () =>
          bearer(
            forge(
              { alg: 'HS256', typ: 'JWT' },
              { ...claims(), exp: Math.floor(Date.now() / 1000) - 10 },
            ),
          ),
      ],
      [
        'a wrong audience',
        () => bearer(forge({ alg: 'HS256', typ: 'JWT' }, { ...claims(), aud: 'someone-else' })),
      ],
      [
        'a wrong issuer',
        () => bearer(forge({ alg: 'HS256', typ: 'JWT' }, { ...claims(), iss: 'evil' })),
      ],
    ])('should answer 401 to %s', async (_name, header) => {
      const request = sut.http.get('/api/v1/auth/me');
      const value = header();
      if (value) void request.set('authorization', value);
      const response = await request.expect(401);
      expect(response.body).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
    });

    it('should take the role from the database, never from the token', async () => {
      const raised = bearer(forge({ alg: 'HS256', typ: 'JWT' }, { ...claims(), role: 'admin' }));
      await sut.http.get('/api/v1/users').set('authorization', raised).expect(403);
    });

    it('should accept a token forged with the right key only while its claims are the real ones', async () => {
      await sut.http
        .get('/api/v1/auth/me')
        .set('authorization', bearer(forge({ alg: 'HS256', typ: 'JWT' }, claims())))
        .expect(200);
    });

    it('should rotate refresh tokens and revoke the whole family when a spent one is reused', async () => {
      const first = (
        await sut.http
          .post('/api/v1/auth/refresh')
          .send({ refreshToken: tokens.refreshToken })
          .expect(200)
      ).body as Tokens;
      expect(first.refreshToken).not.toBe(tokens.refreshToken);
      const second = (
        await sut.http
          .post('/api/v1/auth/refresh')
          .send({ refreshToken: first.refreshToken })
          .expect(200)
      ).body as Tokens;
      // The first refresh token again: stolen or replayed. The whole family goes.
      await sut.http
        .post('/api/v1/auth/refresh')
        .send({ refreshToken: tokens.refreshToken })
        .set('x-request-id', 'reuse-1')
        .expect(401);
      await sut.http
        .post('/api/v1/auth/refresh')
        .send({ refreshToken: second.refreshToken })
        .expect(401);
      const events = await db.query<{ action: string }[]>(
        "SELECT action FROM audit_events WHERE request_id = 'reuse-1'",
      );
      expect(events.map((e) => e.action)).toEqual(['auth.refresh.reuse']);
    });

    it('should end the session on logout', async () => {
      const fresh = (await login(email, STRONG).expect(200)).body as Tokens;
      await sut.http
        .post('/api/v1/auth/logout')
        .set('authorization', bearer(fresh.accessToken))
        .send({ refreshToken: fresh.refreshToken })
        .expect(204);
      await sut.http
        .post('/api/v1/auth/refresh')
        .send({ refreshToken: fresh.refreshToken })
        .expect(401);
    });
  });

  describe('login failures', () => {
    const email = 'lockme@example.test';

    beforeAll(async () => {
      await sut.http
        .post('/api/v1/users')
        .set('authorization', admin)
        .send({ email, password: STRONG, role: 'viewer' })
        .expect(201);
    });

    it('should answer one generic error for an unknown e-mail and a wrong password', async () => {
      const unknown = await login('nobody@example.test', STRONG).expect(401);
      const wrong = await login(email, 'Wrong-Password-1234').expect(401);
      expect(unknown.body.message).toBe('Invalid email or password');
      expect(wrong.body.message).toBe(unknown.body.message);
    });

    it('should lock the account after repeated failures, audit it, and let it go after the lockout', async () => {
      await login(email, 'Wrong-Password-1234').expect(401);
      await login(email, 'Wrong-Password-1234').set('x-request-id', 'lock-3').expect(401);
      const locked = await login(email, STRONG).expect(401);
      expect(locked.body.message).toBe('Invalid email or password');
      const events = await db.query<{ action: string }[]>(
        "SELECT action FROM audit_events WHERE request_id = 'lock-3' ORDER BY seq",
      );
      expect(events.map((e) => e.action)).toEqual(['auth.login.failed', 'auth.lockout']);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      await login(email, STRONG).expect(200);
    });
  });

  describe('concurrent login failures', () => {
    const email = 'burst@example.test';
    let userId: string;

    beforeAll(async () => {
      const created = await sut.http
        .post('/api/v1/users')
        .set('authorization', admin)
        .send({ email, password: STRONG, role: 'viewer' })
        .expect(201);
      userId = (created.body as { id: string }).id;
    });

    it('should count every one of a burst of parallel wrong passwords and lock the account', async () => {
      const answers = await Promise.all(
        Array.from({ length: 12 }, () => login(email, 'Wrong-Password-1234')),
      );

      expect(answers.map((answer) => answer.status)).toEqual(Array(12).fill(401));
      const events = await db.query<{ action: string; details: string }[]>(
        'SELECT action, details FROM audit_events WHERE resource_id = ? ' +
          "AND action IN ('auth.login.failed', 'auth.lockout', 'auth.login.locked') ORDER BY seq",
        [userId],
      );
      expect(events).toHaveLength(12 + events.filter((e) => e.action === 'auth.lockout').length);
      expect(events.some((e) => e.action === 'auth.lockout')).toBe(true);
      // In the order they were decided, each failure counts one more than the one before it, or
      // starts again at 1 after a lockout (the lockout is 1 s here, so it may end in the burst).
      let expected = 1;
      for (const event of events) {
        if (event.action === 'auth.lockout') expected = 1;
        if (event.action !== 'auth.login.failed') continue;
        expect((JSON.parse(event.details) as { failedLogins: number }).failedLogins).toBe(expected);
        expected += 1;
      }
    });
  });

  describe('secrets in the audit log', () => {
    it('should keep passwords and tokens out of every audit row and outbox message', async () => {
      const tokens = (await login('root@example.test', STRONG).expect(200)).body as Tokens;
      await sut.http
        .post('/api/v1/auth/refresh')
        .send({ refreshToken: tokens.refreshToken })
        .expect(200);
      await login('root@example.test', 'Canary-Wrong-Password-77').expect(401);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const everything = JSON.stringify([
        await db.query('SELECT * FROM audit_events'),
        await db.query('SELECT * FROM outbox'),
      ]);
      for (const secret of [
        STRONG,
        'Canary-Wrong-Password-77',
        tokens.accessToken,
        tokens.refreshToken,
      ]) {
        expect(everything).not.toContain(secret);
      }
      const users = JSON.stringify(await db.query('SELECT * FROM users'));
      expect(users).not.toContain(STRONG);
      expect(users).toMatch(/\$argon2id\$/);
    });
  });
});

describe('Login throttling per IP (MariaDB)', () => {
  let database: ScratchDatabase;
  let sut: TestApp;

  beforeAll(async () => {
    database = await scratchMariadb();
    sut = await startApp(database, { env: { JWT_SECRET, LOGIN_THROTTLE_LIMIT: '3' } });
  });

  afterAll(async () => {
    await sut?.close();
    await database?.drop();
  });

  it('should answer 429 with Retry-After once the login budget of an address is spent', async () => {
    for (let i = 0; i < 3; i++) {
      await sut.http
        .post('/api/v1/auth/login')
        .send({ email: `n${i}@example.test`, password: 'whatever-123456' })
        .expect(401);
    }
    const refused = await sut.http
      .post('/api/v1/auth/login')
      .send({ email: 'n@example.test', password: 'whatever-123456' })
      .expect(429);
    // The standard header too, not only @nestjs/throttler's per-throttler one.
    expect(refused.headers['retry-after']).toMatch(/^\d+$/);
    expect(refused.headers['retry-after-login']).toBe(refused.headers['retry-after']);
    // Other routes keep their own, larger budget.
    await sut.http.get('/api/v1/health/live').expect(200);
  });
});

describe('Service accounts and API keys (MariaDB)', () => {
  let database: ScratchDatabase;
  let db: DataSource;
  let sut: TestApp;
  let admin: string;
  let accountId: string;
  let apiKey: string;
  let keyId: string;

  beforeAll(async () => {
    database = await scratchMariadb();
    sut = await startApp(database, { env: { JWT_SECRET } });
    db = await openDirect(database);
    admin = await bearerFor(sut, 'admin');
    const account = await sut.http
      .post('/api/v1/service-accounts')
      .set('authorization', admin)
      .send({ name: 'billing-api' })
      .expect(201);
    accountId = account.body.id;
    const key = await sut.http
      .post(`/api/v1/service-accounts/${accountId}/keys`)
      .set('authorization', admin)
      .send({ label: 'ci' })
      .expect(201);
    apiKey = key.body.apiKey;
    keyId = key.body.id;
  });

  afterAll(async () => {
    await sut?.close();
    await db?.destroy();
    await database?.drop();
  });

  it('should show the key once, in the documented format, and store only its hash', async () => {
    expect(apiKey).toMatch(/^cus_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    // The secret may itself contain "_": take it by position, after "cus_" and the 16-hex id.
    const secret = apiKey.slice('cus_'.length + 16 + 1);
    const listed = await sut.http
      .get(`/api/v1/service-accounts/${accountId}/keys`)
      .set('authorization', admin)
      .expect(200);
    expect(JSON.stringify(listed.body)).not.toContain(secret);
    const everything = JSON.stringify([
      await db.query('SELECT * FROM api_keys'),
      await db.query('SELECT * FROM audit_events'),
    ]);
    expect(everything).not.toContain(secret);
  });

  it('should authenticate by X-API-Key or bearer, record the service as actor, and keep it off people routes', async () => {
    await sut.http
      .get('/api/v1/auth/me')
      .set('x-api-key', apiKey)
      .set('x-request-id', 'svc-1')
      .expect(403);
    await sut.http.get('/api/v1/users').set('authorization', `Bearer ${apiKey}`).expect(403);
    await sut.http.get('/api/v1/audit/events').set('x-api-key', apiKey).expect(403);
    await sut.http
      .post('/api/v1/service-accounts')
      .set('x-api-key', apiKey)
      .send({ name: 'evil' })
      .expect(403);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const [event] = await db.query<Record<string, unknown>[]>(
      "SELECT * FROM audit_events WHERE request_id = 'svc-1'",
    );
    expect(event).toMatchObject({
      actor_type: 'service',
      actor_id: accountId,
      actor_display: 'billing-api',
    });
    const [key] = await db.query<{ last_used_at: Date | null }[]>(
      'SELECT last_used_at FROM api_keys WHERE id = ?',
      [keyId],
    );
    expect(key.last_used_at).not.toBeNull();
  });

  it('should refuse a wrong secret, a revoked key, an expired key and a disabled account', async () => {
    const wrong = apiKey.slice(0, -4) + (apiKey.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    await sut.http.get('/api/v1/auth/me').set('x-api-key', wrong).expect(401);
    await sut.http.get('/api/v1/auth/me').set('x-api-key', 'cus_nonsense').expect(401);

    const soon = new Date(Date.now() + 1500).toISOString();
    const expiring = await sut.http
      .post(`/api/v1/service-accounts/${accountId}/keys`)
      .set('authorization', admin)
      .send({ expiresAt: soon })
      .expect(201);
    await sut.http.get('/api/v1/auth/me').set('x-api-key', expiring.body.apiKey).expect(403);
    await new Promise((resolve) => setTimeout(resolve, 1600));
    await sut.http.get('/api/v1/auth/me').set('x-api-key', expiring.body.apiKey).expect(401);
    await sut.http
      .post(`/api/v1/service-accounts/${accountId}/keys`)
      .set('authorization', admin)
      .send({ expiresAt: '2001-01-01T00:00:00Z' })
      .expect(400);

    const other = await sut.http
      .post(`/api/v1/service-accounts/${accountId}/keys`)
      .set('authorization', admin)
      .send({})
      .expect(201);
    await sut.http
      .delete(`/api/v1/service-accounts/${accountId}/keys/${other.body.id}`)
      .set('authorization', admin)
      .expect(204);
    await sut.http.get('/api/v1/auth/me').set('x-api-key', other.body.apiKey).expect(401);

    await sut.http
      .patch(`/api/v1/service-accounts/${accountId}`)
      .set('authorization', admin)
      .send({ status: 'disabled' })
      .expect(200);
    await sut.http.get('/api/v1/auth/me').set('x-api-key', apiKey).expect(401);
    await sut.http
      .patch(`/api/v1/service-accounts/${accountId}`)
      .set('authorization', admin)
      .send({ status: 'active' })
      .expect(200);
    await sut.http.get('/api/v1/auth/me').set('x-api-key', apiKey).expect(403);
  });

  it('should let only admins manage service accounts', async () => {
    const operator = await bearerFor(sut, 'operator');
    await sut.http.get('/api/v1/service-accounts').set('authorization', operator).expect(403);
    await sut.http
      .post(`/api/v1/service-accounts/${accountId}/keys`)
      .set('authorization', operator)
      .send({})
      .expect(403);
    await sut.http.get('/api/v1/service-accounts').expect(401);
    await sut.http
      .get('/api/v1/service-accounts/not-a-uuid')
      .set('authorization', admin)
      .expect(400);
    await sut.http
      .get('/api/v1/service-accounts/2f1c7a52-3f0e-4f43-9f55-1f4a4c3f8b11')
      .set('authorization', admin)
      .expect(404);
    await sut.http
      .post('/api/v1/service-accounts')
      .set('authorization', admin)
      .send({ name: 'billing-api' })
      .expect(409);
    await sut.http
      .post('/api/v1/service-accounts')
      .set('authorization', admin)
      .send({ name: 'Bad Name' })
      .expect(400);
  });
});

describe('Grants and TOTP (MariaDB)', () => {
  let database: ScratchDatabase;
  let sut: TestApp;
  let admin: string;

  beforeAll(async () => {
    database = await scratchMariadb();
    sut = await startApp(database, { env: { JWT_SECRET, AUTH_REQUIRE_MFA_FOR_ADMINS: 'false' } });
    admin = await bearerFor(sut, 'admin');
  });

  afterAll(async () => {
    await sut?.close();
    await database?.drop();
  });

  it('should let an admin grant a service capabilities on a path pattern, and nobody else', async () => {
    const account = await sut.http
      .post('/api/v1/service-accounts')
      .set('authorization', admin)
      .send({ name: 'deployer' })
      .expect(201);
    const key = await sut.http
      .post(`/api/v1/service-accounts/${account.body.id}/keys`)
      .set('authorization', admin)
      .send({})
      .expect(201);
    const grant = {
      principalType: 'service_account',
      principalId: account.body.id,
      pathPattern: 'acme/prod/*',
      capabilities: ['read', 'reveal'],
    };
    const created = await sut.http
      .post('/api/v1/grants')
      .set('authorization', admin)
      .send(grant)
      .expect(201);
    expect(created.body).toMatchObject({
      pathPattern: 'acme/prod/*',
      capabilities: ['read', 'reveal'],
    });

    const operator = await bearerFor(sut, 'operator');
    await sut.http.post('/api/v1/grants').set('authorization', operator).send(grant).expect(403);
    await sut.http.post('/api/v1/grants').set('x-api-key', key.body.apiKey).send(grant).expect(403);
    await sut.http.get('/api/v1/grants').expect(401);
    await sut.http
      .post('/api/v1/grants')
      .set('authorization', admin)
      .send({ ...grant, pathPattern: 'acme/**/x' })
      .expect(400);
    await sut.http
      .post('/api/v1/grants')
      .set('authorization', admin)
      .send({ ...grant, capabilities: ['admin'] })
      .expect(400);
    await sut.http
      .post('/api/v1/grants')
      .set('authorization', admin)
      .send({ ...grant, principalId: '2f1c7a52-3f0e-4f43-9f55-1f4a4c3f8b11' })
      .expect(404);

    const listed = await sut.http
      .get(`/api/v1/grants?principalType=service_account&principalId=${account.body.id}`)
      .set('authorization', admin)
      .expect(200);
    expect(listed.body.items).toHaveLength(1);

    const policy = sut.app.get(AccessPolicy);
    const service = { type: 'service' as const, id: account.body.id as string, name: 'deployer' };
    await expect(policy.can(service, 'reveal', 'acme/prod/mysql-root')).resolves.toBe(true);
    await expect(policy.can(service, 'reveal', 'acme/dev/mysql-root')).resolves.toBe(false);
    await expect(policy.can(service, 'write', 'acme/prod/mysql-root')).resolves.toBe(false);

    await sut.http
      .delete(`/api/v1/grants/${created.body.id}`)
      .set('authorization', admin)
      .expect(204);
    await expect(policy.can(service, 'reveal', 'acme/prod/mysql-root')).resolves.toBe(false);
  });

  it('should refuse to grant reveal to an auditor, who never sees plaintext', async () => {
    const created = await sut.http
      .post('/api/v1/users')
      .set('authorization', admin)
      .send({ email: 'watcher@example.test', password: STRONG, role: 'auditor' })
      .expect(201);
    const grant = { principalType: 'user', principalId: created.body.id, pathPattern: 'acme/**' };
    const refused = await sut.http
      .post('/api/v1/grants')
      .set('authorization', admin)
      .send({ ...grant, capabilities: ['read', 'reveal'] })
      .expect(400);
    expect(refused.body.message).toMatch(/auditor role never gets reveal/);
    await sut.http
      .post('/api/v1/grants')
      .set('authorization', admin)
      .send({ ...grant, capabilities: ['read'] })
      .expect(201);
  });

  it('should enrol TOTP, then require a fresh code at login, refusing a replayed one', async () => {
    const email = 'totp@example.test';
    await sut.http
      .post('/api/v1/users')
      .set('authorization', admin)
      .send({ email, password: STRONG, role: 'operator' })
      .expect(201);
    const first = (
      await sut.http.post('/api/v1/auth/login').send({ email, password: STRONG }).expect(200)
    ).body as Tokens;
    const auth = `Bearer ${first.accessToken}`;
    const enrolled = await sut.http
      .post('/api/v1/auth/mfa/totp/enrol')
      .set('authorization', auth)
      .expect(200);
    expect(enrolled.body.otpauthUri).toMatch(/^otpauth:\/\/totp\//);
    const secret = enrolled.body.secret as string;
    await sut.http
      .post('/api/v1/auth/mfa/totp/confirm')
      .set('authorization', auth)
      .send({ code: '000000' })
      .expect(400);
    await sut.http
      .post('/api/v1/auth/mfa/totp/confirm')
      .set('authorization', auth)
      .send({ code: await generate({ secret, epoch: Date.now() / 1000 - 30 }) })
      .expect(204);

    const missing = await sut.http
      .post('/api/v1/auth/login')
      .send({ email, password: STRONG })
      .expect(401);
    expect(missing.body.message).toBe('TOTP code required');
    const code = await generate({ secret });
    await sut.http
      .post('/api/v1/auth/login')
      .send({ email, password: STRONG, totp: code })
      .expect(200);
    const replay = await sut.http
      .post('/api/v1/auth/login')
      .send({ email, password: STRONG, totp: code })
      .expect(401);
    expect(replay.body.message).toBe('Invalid email or password');

    const db = await openDirect(database);
    const [row] = await db.query<{ mfa_secret: string }[]>(
      'SELECT mfa_secret FROM users WHERE email = ?',
      [email],
    );
    await db.destroy();
    expect(row.mfa_secret).not.toContain(secret);
  });

  it('should hold back an admin without a second factor when the deployment requires one', async () => {
    const strict = await startApp(database, {
      env: {
        JWT_SECRET,
        AUTH_REQUIRE_MFA_FOR_ADMINS: 'true',
        CUSTOS_MASTER_KEY: sut.env.CUSTOS_MASTER_KEY,
      },
    });
    try {
      const token = await bearerFor(strict, 'admin');
      const refused = await strict.http
        .get('/api/v1/users')
        .set('authorization', token)
        .expect(403);
      expect(refused.body.message).toMatch(/second factor/);
      const enrolled = await strict.http
        .post('/api/v1/auth/mfa/totp/enrol')
        .set('authorization', token)
        .expect(200);
      await strict.http
        .post('/api/v1/auth/mfa/totp/confirm')
        .set('authorization', token)
        .send({ code: await generate({ secret: enrolled.body.secret as string }) })
        .expect(204);
      await strict.http.get('/api/v1/users').set('authorization', token).expect(200);
    } finally {
      await strict.close();
    }
  });
});
