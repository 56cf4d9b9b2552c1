import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AccessPolicy } from '../src/auth/grants/access-policy';
import { ScratchDatabase } from '../src/database/cli/scratch-database';
import { scratchMariadb, startApp, TestApp } from './helpers/test-app';

/**
 * The auth issue's "done when", end to end: a new admin logs in with the bootstrap password,
 * changes it, creates an operator and a service account with a key and a grant, and each of
 * them can do exactly what their role and grants allow.
 */
describe('From a fresh instance to a working team (MariaDB)', () => {
  let database: ScratchDatabase;
  let sut: TestApp;

  beforeAll(async () => {
    database = await scratchMariadb();
    sut = await startApp(database);
  });

  afterAll(async () => {
    await sut?.close();
    await database?.drop();
  });

  it('should take a new admin from the bootstrap password to an operator and a service with a grant', async () => {
    const post = (url: string, body: object, auth?: Record<string, string>) =>
      sut.http
        .post(`/api/v1${url}`)
        .set(auth ?? {})
        .send(body);
    const initial = readFileSync(
      join(String(sut.env.CUSTOS_DATA_DIR), 'initial-admin-password'),
      'utf8',
    ).trim();

    const first = await post('/auth/login', { email: 'admin@localhost', password: initial }).expect(
      200,
    );
    expect(first.body.mustChangePassword).toBe(true);
    await post(
      '/auth/password',
      { currentPassword: initial, newPassword: 'Quiet-Orchard-Compass-77' },
      {
        authorization: `Bearer ${first.body.accessToken}`,
      },
    ).expect(204);
    const adminLogin = await post('/auth/login', {
      email: 'admin@localhost',
      password: 'Quiet-Orchard-Compass-77',
    }).expect(200);
    const admin = { authorization: `Bearer ${adminLogin.body.accessToken}` };

    await post(
      '/users',
      { email: 'olga@example.test', password: 'Granite-Meadow-Beacon-19', role: 'operator' },
      admin,
    ).expect(201);
    const account = await post('/service-accounts', { name: 'billing-api' }, admin).expect(201);
    const key = await post(`/service-accounts/${account.body.id}/keys`, {}, admin).expect(201);
    await post(
      '/grants',
      {
        principalType: 'service_account',
        principalId: account.body.id,
        pathPattern: 'acme/prod/**',
        capabilities: ['read', 'reveal'],
      },
      admin,
    ).expect(201);

    const operatorLogin = await post('/auth/login', {
      email: 'olga@example.test',
      password: 'Granite-Meadow-Beacon-19',
    }).expect(200);
    const operator = { authorization: `Bearer ${operatorLogin.body.accessToken}` };
    const service = { 'x-api-key': key.body.apiKey as string };

    // The operator: their own profile yes, people and the audit log no.
    await sut.http.get('/api/v1/auth/me').set(operator).expect(200);
    await sut.http.get('/api/v1/users').set(operator).expect(403);
    await sut.http.get('/api/v1/audit/events').set(operator).expect(403);
    // The service: no people's routes, no admin routes.
    await sut.http.get('/api/v1/auth/me').set(service).expect(403);
    await sut.http.get('/api/v1/grants').set(service).expect(403);
    // What each may do with credentials, as the one policy answers it.
    const policy = sut.app.get(AccessPolicy);
    const olga = await sut.http.get('/api/v1/auth/me').set(operator).expect(200);
    const operatorPrincipal = {
      type: 'user' as const,
      id: olga.body.id as string,
      email: 'olga@example.test',
      role: 'operator' as const,
      mustChangePassword: false,
      mfaEnabled: false,
    };
    const servicePrincipal = {
      type: 'service' as const,
      id: account.body.id as string,
      name: 'billing-api',
    };
    await expect(policy.can(operatorPrincipal, 'reveal', 'acme/prod/db')).resolves.toBe(true);
    await expect(policy.can(operatorPrincipal, 'delete', 'acme/prod/db')).resolves.toBe(false);
    await expect(policy.can(servicePrincipal, 'reveal', 'acme/prod/eu/db')).resolves.toBe(true);
    await expect(policy.can(servicePrincipal, 'write', 'acme/prod/eu/db')).resolves.toBe(false);
    await expect(policy.can(servicePrincipal, 'read', 'acme/dev/db')).resolves.toBe(false);

    // And all of it is on the record, verifiably.
    const events = await sut.http.get('/api/v1/audit/events?limit=500').set(admin).expect(200);
    const actions = new Set((events.body.items as { action: string }[]).map((e) => e.action));
    for (const action of [
      'auth.bootstrap.admin',
      'auth.login',
      'auth.password.change',
      'user.create',
      'service_account.create',
      'api_key.create',
      'grant.create',
    ]) {
      expect(actions).toContain(action);
    }
    const verified = await sut.http.post('/api/v1/audit/verify').set(admin).expect(200);
    expect(verified.body.ok).toBe(true);
  });
});
