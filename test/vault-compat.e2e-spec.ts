import { connect } from 'node:net';
import { ScratchDatabase } from '../src/database/cli/scratch-database';
import { openDirect } from './helpers/audit-db';
import { Query, versionViolations } from './helpers/rotation-checks';
import { serviceWithGrants } from './helpers/principals';
import {
  bearerFor,
  listening,
  Listening,
  randomMasterKey,
  scratchMariadb,
  startApp,
  TestApp,
} from './helpers/test-app';

interface AuditRow {
  action: string;
  outcome: string;
  actor: { type: string; id?: string };
  resourceId: string | null;
  details: Record<string, unknown>;
}

/** A raw HTTP/1.1 exchange, for the LIST method (Node's own HTTP client refuses to send it). */
function rawRequest(
  url: string,
  request: string,
): Promise<{ status: number; head: string; body: string }> {
  const { port, hostname } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(request));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const [head, ...rest] = text.split('\r\n\r\n');
      resolve({ status: Number(head.split(' ')[1]), head, body: rest.join('\r\n\r\n') });
    });
  });
}

/**
 * The Vault KV v2 compatibility API over HTTP against the real app and MariaDB: what HashiCorp
 * Vault clients (hvac, node-vault, Ansible's hashi_vault) send, and what they expect back.
 */
describe('Vault compatibility API (MariaDB)', () => {
  let database: ScratchDatabase;
  let sut: TestApp;
  let admin: string;
  let reader: { id: string; headers: Record<string, string> };
  let writer: { id: string; headers: Record<string, string> };
  let outsider: { id: string; headers: Record<string, string> };

  const vault = (headers: Record<string, string>) => ({
    'x-vault-token': headers['x-api-key'] ?? headers.authorization.replace(/^Bearer /, ''),
  });
  const auditEvents = async (action: string): Promise<AuditRow[]> =>
    (
      await sut.http
        .get(`/api/v1/audit/events?action=${action}&limit=100`)
        .set({ authorization: admin })
        .expect(200)
    ).body.items as AuditRow[];

  beforeAll(async () => {
    database = await scratchMariadb();
    sut = await startApp(database, {
      env: {
        THROTTLE_LIMIT: '100000',
        LOGIN_THROTTLE_LIMIT: '100000',
        VAULT_COMPAT_MOUNTS: 'secret=,kv=teams/',
        VAULT_COMPAT_TOKEN_TTL: 'PT30M',
      },
    });
    admin = await bearerFor(sut, 'admin');
    reader = await serviceWithGrants(sut, admin, [
      { pathPattern: 'acme/**', capabilities: ['read', 'reveal'] },
    ]);
    writer = await serviceWithGrants(sut, admin, [
      { pathPattern: 'acme/**', capabilities: ['read', 'reveal', 'write', 'delete'] },
      { pathPattern: 'teams/**', capabilities: ['read', 'reveal', 'write'] },
    ]);
    outsider = await serviceWithGrants(sut, admin, [
      { pathPattern: 'other/**', capabilities: ['read', 'reveal', 'write', 'delete'] },
    ]);
  });

  afterAll(async () => {
    await sut?.close();
    await database?.drop();
  });

  describe('sys/health', () => {
    it('should answer 200 with Vault’s body to anyone, as application/json exactly', async () => {
      const response = await sut.http.get('/v1/sys/health').expect(200);

      expect(response.headers['content-type']).toBe('application/json');
      expect(response.body).toEqual(
        expect.objectContaining({
          initialized: true,
          sealed: false,
          standby: false,
          performance_standby: false,
          replication_performance_mode: 'disabled',
          replication_dr_mode: 'disabled',
          server_time_utc: expect.any(Number),
          version: expect.stringMatching(/^1\.\d+\.\d+/),
          cluster_name: 'custos',
          cluster_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        }),
      );
    });

    it('should honour the status code overrides', async () => {
      await sut.http.get('/v1/sys/health?activecode=204').expect(204);
      await sut.http.get('/v1/sys/health?standbyok=true&activecode=299').expect(299);
      await sut.http.get('/v1/sys/health?sealedcode=200&uninitcode=200').expect(200);
      const bad = await sut.http.get('/v1/sys/health?activecode=abc').expect(400);
      expect(bad.body.errors).toEqual([expect.stringContaining('bad code')]);
    });

    it('should answer the seal status to anyone, and the mount of a path to a token holder', async () => {
      const status = await sut.http.get('/v1/sys/seal-status').expect(200);
      expect(status.body).toEqual(expect.objectContaining({ sealed: false, initialized: true }));

      const mount = await sut.http
        .get('/v1/sys/internal/ui/mounts/kv/billing')
        .set(vault(reader.headers))
        .expect(200);
      expect(mount.body.data).toEqual(
        expect.objectContaining({ path: 'kv/', type: 'kv', options: { version: '2' } }),
      );
      await sut.http.get('/v1/sys/internal/ui/mounts/kv/billing').expect(403);
    });

    it('should answer HEAD with the status code alone', async () => {
      const response = await sut.http.head('/v1/sys/health?activecode=202');
      expect(response.status).toBe(202);
    });
  });

  describe('tokens', () => {
    it('should refuse a request without a token, or with a bad one, as Vault does', async () => {
      for (const headers of [
        {},
        { 'x-vault-token': 'nonsense' },
        { 'x-vault-token': `cus_0123456789abcdef_${'x'.repeat(43)}` },
      ]) {
        const response = await sut.http.get('/v1/auth/token/lookup-self').set(headers).expect(403);
        expect(response.body).toEqual({ errors: ['permission denied'] });
        expect(response.headers['content-type']).toBe('application/json');
      }
    });

    it('should describe an API key sent as X-Vault-Token without echoing any other secret', async () => {
      const response = await sut.http
        .get('/v1/auth/token/lookup-self')
        .set(vault(reader.headers))
        .expect(200);

      expect(response.body.data).toEqual(
        expect.objectContaining({
          id: reader.headers['x-api-key'],
          accessor: reader.headers['x-api-key'].split('_')[1],
          entity_id: reader.id,
          renewable: false,
          type: 'service',
          policies: expect.arrayContaining(['default']),
          explicit_max_ttl: 0,
          num_uses: 0,
          orphan: true,
          path: 'auth/token/create',
        }),
      );
    });

    it('should describe a person’s access token, sent as X-Vault-Token or as a bearer token', async () => {
      const viaVault = await sut.http
        .post('/v1/auth/token/lookup-self')
        .set({ 'x-vault-token': admin.replace(/^Bearer /, '') })
        .expect(200);
      const viaBearer = await sut.http
        .get('/v1/auth/token/lookup-self')
        .set({ authorization: admin })
        .expect(200);

      expect(viaVault.body.data.display_name).toMatch(/^user-admin-/);
      expect(viaVault.body.data.policies).toContain('custos-admin');
      expect(viaVault.body.data.ttl).toBeGreaterThan(0);
      expect(viaBearer.body.data.entity_id).toBe(viaVault.body.data.entity_id);
    });

    it('should answer renew-self with the token as it is, not renewable', async () => {
      const response = await sut.http
        .post('/v1/auth/token/renew-self')
        .set(vault(reader.headers))
        .send({})
        .expect(200);
      expect(response.body.auth).toEqual(
        expect.objectContaining({ client_token: reader.headers['x-api-key'], renewable: false }),
      );
    });
  });

  describe('AppRole', () => {
    const login = (roleId: string, secretId: string) =>
      sut.http.post('/v1/auth/approle/login').send({ role_id: roleId, secret_id: secretId });

    it('should log a service account in with one of its API keys and answer Vault’s auth envelope', async () => {
      const response = await login(reader.id, reader.headers['x-api-key']).expect(200);

      expect(response.headers['content-type']).toBe('application/json');
      expect(response.body.auth).toEqual({
        client_token: expect.stringMatching(/^cvt\./),
        accessor: expect.any(String),
        policies: ['default', 'custos-grants'],
        token_policies: ['default', 'custos-grants'],
        metadata: { role_name: expect.any(String) },
        lease_duration: expect.any(Number),
        renewable: false,
        entity_id: reader.id,
        token_type: 'service',
        orphan: true,
        mfa_requirement: null,
        num_uses: 0,
      });
      expect(response.body.auth.lease_duration).toBeGreaterThan(1700);
      expect(response.body.auth.lease_duration).toBeLessThanOrEqual(1800);
      const lookup = await sut.http
        .get('/v1/auth/token/lookup-self')
        .set({ 'x-vault-token': response.body.auth.client_token })
        .expect(200);
      expect(lookup.body.data).toEqual(
        expect.objectContaining({ path: 'auth/approle/login', entity_id: reader.id }),
      );
    });

    it('should refuse a wrong role or secret with Vault’s 400 and audit the refusal', async () => {
      for (const [roleId, secretId] of [
        [writer.id, reader.headers['x-api-key']],
        [reader.id, `cus_0123456789abcdef_${'y'.repeat(43)}`],
        [reader.id, 'not-a-key'],
      ]) {
        const response = await login(roleId, secretId).expect(400);
        expect(response.body).toEqual({ errors: ['invalid role or secret ID'] });
      }
      const events = await auditEvents('auth.approle.login');
      expect(events.filter((e) => e.outcome === 'denied').length).toBeGreaterThanOrEqual(3);
    });

    it('should end the token as soon as its API key is revoked', async () => {
      const service = await serviceWithGrants(sut, admin, [
        { pathPattern: 'acme/**', capabilities: ['read'] },
      ]);
      const token = (await login(service.id, service.headers['x-api-key']).expect(200)).body.auth
        .client_token as string;
      await sut.http.get('/v1/auth/token/lookup-self').set({ 'x-vault-token': token }).expect(200);
      const keys = await sut.http
        .get(`/api/v1/service-accounts/${service.id}/keys`)
        .set({ authorization: admin })
        .expect(200);
      const keyId = (keys.body.items ?? keys.body)[0].id as string;
      await sut.http
        .delete(`/api/v1/service-accounts/${service.id}/keys/${keyId}`)
        .set({ authorization: admin })
        .expect(204);

      const after = await sut.http
        .get('/v1/auth/token/lookup-self')
        .set({ 'x-vault-token': token })
        .expect(403);
      expect(after.body).toEqual({ errors: ['permission denied'] });
    });

    it('should end the token as soon as the service account is disabled', async () => {
      const service = await serviceWithGrants(sut, admin, [
        { pathPattern: 'acme/**', capabilities: ['read'] },
      ]);
      const token = (await login(service.id, service.headers['x-api-key']).expect(200)).body.auth
        .client_token as string;
      await sut.http.get('/v1/auth/token/lookup-self').set({ 'x-vault-token': token }).expect(200);
      await sut.http
        .patch(`/api/v1/service-accounts/${service.id}`)
        .set({ authorization: admin })
        .send({ status: 'disabled' })
        .expect(200);

      await sut.http.get('/v1/auth/token/lookup-self').set({ 'x-vault-token': token }).expect(403);
    });
  });

  describe('KV v2', () => {
    it('should create a kv credential on first write and answer Vault’s write response', async () => {
      const response = await sut.http
        .post('/v1/secret/data/acme/prod/db')
        .set(vault(writer.headers))
        .send({ data: { username: 'app', password: 'kv-canary-Lr5t' } })
        .expect(200);

      expect(response.headers['content-type']).toBe('application/json');
      expect(response.body.data).toEqual({
        created_time: expect.any(String),
        custom_metadata: null,
        deletion_time: '',
        destroyed: false,
        version: 1,
      });
      const listed = await sut.http
        .get('/api/v1/credentials?pathPrefix=acme/prod/db')
        .set({ authorization: admin })
        .expect(200);
      expect(listed.body.items[0]).toEqual(
        expect.objectContaining({ path: 'acme/prod/db', name: 'db', type: 'kv' }),
      );
    });

    it('should read the secret back in Vault’s envelope, audited as a reveal', async () => {
      const response = await sut.http
        .get('/v1/secret/data/acme/prod/db')
        .set(vault(reader.headers))
        .expect(200);

      expect(response.headers['content-type']).toBe('application/json');
      expect(response.body).toEqual({
        request_id: expect.any(String),
        lease_id: '',
        renewable: false,
        lease_duration: 0,
        data: {
          data: { username: 'app', password: 'kv-canary-Lr5t' },
          metadata: {
            created_time: expect.any(String),
            custom_metadata: null,
            deletion_time: '',
            destroyed: false,
            version: 1,
          },
        },
        wrap_info: null,
        warnings: null,
        auth: null,
        mount_type: 'kv',
      });
      const reveals = await auditEvents('credential.reveal');
      expect(reveals).toContainEqual(
        expect.objectContaining({
          action: 'credential.reveal',
          outcome: 'success',
          actor: expect.objectContaining({ type: 'service', id: reader.id }),
          details: expect.objectContaining({ path: 'acme/prod/db', version: 1 }),
        }),
      );
    });

    it('should read through a token from the AppRole login too, and %2F in the path', async () => {
      const token = (
        await sut.http
          .post('/v1/auth/approle/login')
          .set('content-type', 'text/plain')
          .send(JSON.stringify({ role_id: reader.id, secret_id: reader.headers['x-api-key'] }))
          .expect(200)
      ).body.auth.client_token as string;
      const response = await sut.http
        .get('/v1/secret/data/acme%2Fprod%2Fdb')
        .set({ 'x-vault-token': token })
        .expect(200);
      expect(response.body.data.data.password).toBe('kv-canary-Lr5t');
    });

    it('should write new versions with check-and-set, and refuse a stale one', async () => {
      const ok = await sut.http
        .put('/v1/secret/data/acme/prod/db')
        .set(vault(writer.headers))
        .send({ data: { username: 'app', password: 'second' }, options: { cas: 1 } })
        .expect(200);
      expect(ok.body.data.version).toBe(2);

      const stale = await sut.http
        .post('/v1/secret/data/acme/prod/db')
        .set(vault(writer.headers))
        .send({ data: { username: 'app', password: 'third' }, options: { cas: 1 } })
        .expect(400);
      expect(stale.body).toEqual({
        errors: ['check-and-set parameter did not match the current version'],
      });

      const exists = await sut.http
        .post('/v1/secret/data/acme/prod/db')
        .set(vault(writer.headers))
        .send({ data: { password: 'x' }, options: { cas: 0 } })
        .expect(400);
      expect(exists.body.errors).toEqual([
        'check-and-set parameter did not match the current version',
      ]);

      await sut.http
        .post('/v1/secret/data/acme/prod/fresh')
        .set(vault(writer.headers))
        .send({ data: { token: 'fresh-value' }, options: { cas: 0 } })
        .expect(200);
    });

    it('should read a named version while it is still revealable, and 404 otherwise', async () => {
      const previous = await sut.http
        .get('/v1/secret/data/acme/prod/db?version=1')
        .set(vault(reader.headers))
        .expect(200);
      expect(previous.body.data.metadata.version).toBe(1);
      expect(previous.body.data.data.password).toBe('kv-canary-Lr5t');

      const unknown = await sut.http
        .get('/v1/secret/data/acme/prod/db?version=99')
        .set(vault(reader.headers))
        .expect(404);
      expect(unknown.body).toEqual({ errors: [] });
    });

    it('should keep a write to an existing credential to its type’s shape', async () => {
      const created = await sut.http
        .post('/api/v1/credentials')
        .set({ authorization: admin })
        .send({
          path: 'acme/prod/root',
          name: 'root',
          type: 'password',
          secret: { password: 'pw-1' },
        })
        .expect(201);
      const refused = await sut.http
        .post('/v1/secret/data/acme/prod/root')
        .set(vault(writer.headers))
        .send({ data: { user: 'x', pass: 'y' } })
        .expect(400);
      expect(refused.body.errors).toHaveLength(1);
      expect(JSON.stringify(refused.body)).not.toContain('"y"');

      await sut.http
        .post('/v1/secret/data/acme/prod/root')
        .set(vault(writer.headers))
        .send({ data: { password: 'pw-2' } })
        .expect(200);
      const read = await sut.http
        .get('/v1/secret/data/acme/prod/root')
        .set(vault(reader.headers))
        .expect(200);
      expect(read.body.data.data).toEqual({ password: 'pw-2' });
      expect(read.body.data.metadata.version).toBe(2);
      expect(created.body.id).toEqual(expect.any(String));
    });

    it('should refuse a kv secret that is not a flat map of strings, without echoing it', async () => {
      const response = await sut.http
        .post('/v1/secret/data/acme/prod/nested')
        .set(vault(writer.headers))
        .send({ data: { nested: { secret: 'nested-canary-Qw2' } } })
        .expect(400);
      expect(JSON.stringify(response.body)).not.toContain('nested-canary-Qw2');
    });

    it('should take a body sent without a JSON content type', async () => {
      await sut.http
        .post('/v1/secret/data/acme/prod/plain')
        .set(vault(writer.headers))
        .set('content-type', 'text/plain')
        .send(JSON.stringify({ data: { value: 'plain' } }))
        .expect(200);
    });

    it('should map a mount onto its prefix', async () => {
      await sut.http
        .post('/v1/kv/data/billing/stripe')
        .set(vault(writer.headers))
        .send({ data: { apiKey: 'sk-stripe' } })
        .expect(200);
      const listed = await sut.http
        .get('/api/v1/credentials?pathPrefix=teams/billing/')
        .set({ authorization: admin })
        .expect(200);
      expect(listed.body.items.map((c: { path: string }) => c.path)).toEqual([
        'teams/billing/stripe',
      ]);
      await sut.http.get('/v1/nope/data/x').set(vault(writer.headers)).expect(404);
    });

    it('should answer the credential’s string metadata as custom_metadata on a read, as the metadata route does', async () => {
      await sut.http
        .post('/api/v1/credentials')
        .set({ authorization: admin })
        .send({
          path: 'acme/tagged/api',
          name: 'api',
          type: 'kv',
          secret: { token: 'tagged-Vb3' },
          metadata: { owner: 'ops', ticket: 7 },
        })
        .expect(201);

      const read = await sut.http
        .get('/v1/secret/data/acme/tagged/api')
        .set(vault(reader.headers))
        .expect(200);
      const metadata = await sut.http
        .get('/v1/secret/metadata/acme/tagged/api')
        .set(vault(reader.headers))
        .expect(200);
      const written = await sut.http
        .post('/v1/secret/data/acme/tagged/api')
        .set(vault(writer.headers))
        .send({ data: { token: 'tagged-v2-Nc4' } })
        .expect(200);

      expect(read.body.data.metadata.custom_metadata).toEqual({ owner: 'ops' });
      expect(metadata.body.data.custom_metadata).toEqual({ owner: 'ops' });
      expect(written.body.data.custom_metadata).toEqual({ owner: 'ops' });
    });

    it('should ignore unknown fields of a write as Vault does, and name them in warnings', async () => {
      const response = await sut.http
        .post('/v1/secret/data/acme/lenient/one')
        .set(vault(writer.headers))
        .send({
          data: { value: 'lenient-Xe5' },
          options: { cas: 0, max_versions: 5 },
          extra: true,
          version: 3,
        })
        .expect(200);
      expect(response.body.data.version).toBe(1);
      expect(response.body.warnings).toEqual([
        'Endpoint ignored these unrecognized parameters: [extra]',
      ]);
      const read = await sut.http
        .get('/v1/secret/data/acme/lenient/one')
        .set(vault(reader.headers))
        .expect(200);
      expect(read.body.data.data).toEqual({ value: 'lenient-Xe5' });
      expect(read.body.warnings).toBeNull();

      // A prototype key is still refused, and nothing is stored.
      const refused = await sut.http
        .post('/v1/secret/data/acme/lenient/proto')
        .set(vault(writer.headers))
        .set('content-type', 'application/json')
        .send('{"data":{"value":"proto-Yf6"},"__proto__":{"admin":true}}')
        .expect(400);
      expect(JSON.stringify(refused.body)).not.toContain('proto-Yf6');
      await sut.http
        .get('/v1/secret/metadata/acme/lenient/proto')
        .set(vault(reader.headers))
        .expect(404);
    });

    it('should answer the metadata of a secret with the read grant alone', async () => {
      const metadataOnly = await serviceWithGrants(sut, admin, [
        { pathPattern: 'acme/**', capabilities: ['read'] },
      ]);
      const response = await sut.http
        .get('/v1/secret/metadata/acme/prod/db')
        .set(vault(metadataOnly.headers))
        .expect(200);

      expect(response.body.data).toEqual({
        cas_required: false,
        created_time: expect.any(String),
        current_version: 2,
        custom_metadata: null,
        delete_version_after: '0s',
        max_versions: 0,
        oldest_version: 1,
        updated_time: expect.any(String),
        versions: {
          '1': {
            created_time: expect.any(String),
            deletion_time: expect.any(String),
            destroyed: false,
          },
          '2': { created_time: expect.any(String), deletion_time: '', destroyed: false },
        },
      });
      expect(JSON.stringify(response.body)).not.toContain('kv-canary');
      await sut.http
        .get('/v1/secret/data/acme/prod/db')
        .set(vault(metadataOnly.headers))
        .expect(403);
    });

    it('should list the children of a folder with ?list=true, folders ending in /', async () => {
      const root = await sut.http
        .get('/v1/secret/metadata/?list=true')
        .set(vault(reader.headers))
        .expect(200);
      expect(root.body.data.keys).toEqual(['acme/']);

      const prod = await sut.http
        .get('/v1/secret/metadata/acme/prod?list=true')
        .set(vault(reader.headers))
        .expect(200);
      expect(prod.body.data.keys).toEqual(['db', 'fresh', 'plain', 'root']);

      const none = await sut.http
        .get('/v1/secret/metadata/acme/nothing/?list=true')
        .set(vault(reader.headers))
        .expect(404);
      expect(none.body).toEqual({ errors: [] });
      const hidden = await sut.http
        .get('/v1/secret/metadata/?list=true')
        .set(vault(outsider.headers))
        .expect(404);
      expect(hidden.body).toEqual({ errors: [] });
    });

    it('should refuse a list where no grant of the caller reaches with permission denied, whether or not anything is stored there', async () => {
      // acme/prod holds secrets, acme/nothing holds none: the outsider gets the same answer.
      for (const folder of ['acme', 'acme/prod', 'acme/nothing/']) {
        const response = await sut.http
          .get(`/v1/secret/metadata/${folder}?list=true`)
          .set(vault(outsider.headers))
          .expect(403);
        expect(response.body).toEqual({ errors: ['permission denied'] });
      }
      // A grant on one name of a folder opens the list of that folder, filtered to it.
      const narrow = await serviceWithGrants(sut, admin, [
        { pathPattern: 'acme/prod/db', capabilities: ['read'] },
      ]);
      const listed = await sut.http
        .get('/v1/secret/metadata/acme/prod?list=true')
        .set(vault(narrow.headers))
        .expect(200);
      expect(listed.body.data.keys).toEqual(['db']);
      await sut.http
        .get('/v1/secret/metadata/acme/stage?list=true')
        .set(vault(narrow.headers))
        .expect(403);
    });

    it('should answer the LIST method that Vault clients send', async () => {
      const { url }: Listening = await listening(sut);
      const token = reader.headers['x-api-key'];
      const host = new URL(url).host;
      const response = await rawRequest(
        url,
        `LIST /v1/secret/metadata/acme/prod HTTP/1.1\r\nHost: ${host}\r\nX-Vault-Token: ${token}\r\nConnection: close\r\n\r\n`,
      );
      expect(response.status).toBe(200);
      expect(response.head).toMatch(/content-type: application\/json\r\n/i);
      expect(JSON.parse(response.body).data.keys).toEqual(['db', 'fresh', 'plain', 'root']);

      const refused = await rawRequest(
        url,
        `LIST /v1/secret/metadata/acme/prod HTTP/1.1\r\nHost: ${host}\r\nX-Vault-Token: ${outsider.headers['x-api-key']}\r\nConnection: close\r\n\r\n`,
      );
      expect(refused.status).toBe(403);
      expect(JSON.parse(refused.body)).toEqual({ errors: ['permission denied'] });
    });

    it('should refuse every route to a principal without the grant with permission denied', async () => {
      const routes: [string, string, object?][] = [
        ['get', '/v1/secret/data/acme/prod/db'],
        ['post', '/v1/secret/data/acme/prod/db', { data: { a: 'b' } }],
        ['put', '/v1/secret/data/acme/prod/db', { data: { a: 'b' } }],
        ['post', '/v1/secret/data/acme/prod/new-one', { data: { a: 'b' } }],
        ['delete', '/v1/secret/data/acme/prod/db'],
        ['post', '/v1/secret/delete/acme/prod/db', { versions: [1, 2] }],
        ['post', '/v1/secret/undelete/acme/prod/db', { versions: [1, 2] }],
        ['get', '/v1/secret/metadata/acme/prod/db'],
        ['delete', '/v1/secret/metadata/acme/prod/db'],
        ['post', '/v1/secret/destroy/acme/prod/db', { versions: [1, 2] }],
      ];
      const expectDenied = async (headers: Record<string, string>, calls: typeof routes) => {
        for (const [method, url, body] of calls) {
          const request = (
            sut.http as unknown as Record<string, (u: string) => import('supertest').Test>
          )
            [method](url)
            .set(vault(headers));
          const response = await (body ? request.send(body) : request);
          expect({ method, url, status: response.status, body: response.body }).toEqual({
            method,
            url,
            status: 403,
            body: { errors: ['permission denied'] },
          });
        }
      };
      // The reader may read and reveal, so it learns the secret exists; it may not change it.
      await expectDenied(
        reader.headers,
        routes.filter(([m]) => m !== 'get'),
      );
      // No grant covers the outsider: Vault's 403 on every route, whether or not a secret is
      // there, so no answer tells it what exists (a write with cas 0 included).
      const probes: typeof routes = [
        ...routes,
        ['get', '/v1/secret/data/acme/prod/nothing-here'],
        ['post', '/v1/secret/data/acme/prod/db', { data: { a: 'b' }, options: { cas: 0 } }],
      ];
      await expectDenied(outsider.headers, probes);
    });

    it('should soft delete with DELETE data (native delete): the data answers 404, the metadata stays with deletion times', async () => {
      await sut.http
        .delete('/v1/secret/data/acme/prod/plain')
        .set(vault(writer.headers))
        .expect(204);
      await sut.http.get('/v1/secret/data/acme/prod/plain').set(vault(reader.headers)).expect(404);
      const events = await auditEvents('credential.delete');
      expect(events).toContainEqual(
        expect.objectContaining({
          outcome: 'success',
          details: expect.objectContaining({ path: 'acme/prod/plain' }),
        }),
      );

      const metadata = await sut.http
        .get('/v1/secret/metadata/acme/prod/plain')
        .set(vault(reader.headers))
        .expect(200);
      expect(metadata.body.data).toMatchObject({
        current_version: 1,
        versions: {
          '1': { deletion_time: expect.stringMatching(/^\d{4}-/), destroyed: false },
        },
      });
      await sut.http
        .get('/v1/secret/metadata/acme/prod/plain')
        .set(vault(outsider.headers))
        .expect(403);
    });

    it('should refuse a write to a soft-deleted secret with what to do, and write after an undelete', async () => {
      const refused = await sut.http
        .post('/v1/secret/data/acme/prod/plain')
        .set(vault(writer.headers))
        .send({ data: { value: 'after-delete-Zg7' } })
        .expect(400);
      expect(refused.body.errors).toEqual([expect.stringContaining('undelete')]);
      expect(JSON.stringify(refused.body)).not.toContain('after-delete-Zg7');
      const unchanged = await sut.http
        .get('/v1/secret/metadata/acme/prod/plain')
        .set(vault(reader.headers))
        .expect(200);
      expect(unchanged.body.data.current_version).toBe(1);
      // The outsider learns nothing from the same write.
      await sut.http
        .post('/v1/secret/data/acme/prod/plain')
        .set(vault(outsider.headers))
        .send({ data: { value: 'x' } })
        .expect(403);

      await sut.http
        .post('/v1/secret/undelete/acme/prod/plain')
        .set(vault(writer.headers))
        .send({ versions: [1] })
        .expect(204);
      const written = await sut.http
        .post('/v1/secret/data/acme/prod/plain')
        .set(vault(writer.headers))
        .send({ data: { value: 'after-undelete-Ah8' }, options: { cas: 1 } })
        .expect(200);
      expect(written.body.data.version).toBe(2);
      const read = await sut.http
        .get('/v1/secret/data/acme/prod/plain')
        .set(vault(reader.headers))
        .expect(200);
      expect(read.body.data.data).toEqual({ value: 'after-undelete-Ah8' });
    });

    it('should delete and undelete versions only as a whole, as the native delete and restore', async () => {
      await sut.http
        .post('/v1/secret/data/acme/prod/again')
        .set(vault(writer.headers))
        .send({ data: { v: '1' } })
        .expect(200);
      await sut.http
        .post('/v1/secret/data/acme/prod/again')
        .set(vault(writer.headers))
        .send({ data: { v: '2' } })
        .expect(200);
      const partial = await sut.http
        .post('/v1/secret/delete/acme/prod/again')
        .set(vault(writer.headers))
        .send({ versions: [2] })
        .expect(400);
      expect(partial.body.errors[0]).toMatch(/every version/);

      await sut.http
        .post('/v1/secret/delete/acme/prod/again')
        .set(vault(writer.headers))
        .send({ versions: [1, 2] })
        .expect(204);
      await sut.http.get('/v1/secret/data/acme/prod/again').set(vault(reader.headers)).expect(404);
      await sut.http
        .post('/v1/secret/undelete/acme/prod/again')
        .set(vault(reader.headers))
        .send({ versions: [1, 2] })
        .expect(403);
      await sut.http
        .post('/v1/secret/undelete/acme/prod/again')
        .set(vault(writer.headers))
        .send({ versions: [1, 2] })
        .expect(204);
      const read = await sut.http
        .get('/v1/secret/data/acme/prod/again')
        .set(vault(reader.headers))
        .expect(200);
      expect(read.body.data.data).toEqual({ v: '2' });
      const restores = await auditEvents('credential.restore');
      expect(restores.some((e) => e.outcome === 'success')).toBe(true);
    });

    it('should destroy only when every live version is named, as the native destroy (admin)', async () => {
      const partial = await sut.http
        .post('/v1/secret/destroy/acme/prod/db')
        .set({ authorization: admin })
        .send({ versions: [1] })
        .expect(400);
      expect(partial.body.errors[0]).toMatch(/every version/);
      await sut.http
        .post('/v1/secret/destroy/acme/prod/db')
        .set({ authorization: admin })
        .send({ versions: [1, 2] })
        .expect(204);
      await sut.http.get('/v1/secret/data/acme/prod/db').set(vault(reader.headers)).expect(404);
      const events = await auditEvents('credential.destroy');
      expect(events.some((e) => e.outcome === 'success')).toBe(true);
    });

    it('should destroy everything with DELETE metadata (admin)', async () => {
      await sut.http
        .delete('/v1/secret/metadata/acme/prod/fresh')
        .set({ 'x-vault-token': admin.replace(/^Bearer /, '') })
        .expect(204);
      await sut.http
        .get('/v1/secret/metadata/acme/prod/fresh')
        .set(vault(reader.headers))
        .expect(404);
    });
  });

  describe('concurrent writers', () => {
    it('should let exactly one of many concurrent writers with the same cas win, creating and updating', async () => {
      const write = (cas: number, value: string) =>
        sut.http
          .post('/v1/secret/data/acme/race/one')
          .set(vault(writer.headers))
          .send({ data: { token: value }, options: { cas } });

      const creates = await Promise.all(
        Array.from({ length: 8 }, (_, i) => write(0, `create-${i}`)),
      );
      expect(creates.filter((r) => r.status === 200)).toHaveLength(1);
      expect(creates.filter((r) => r.status !== 200).map((r) => r.status)).toEqual(
        Array(7).fill(400),
      );

      const updates = await Promise.all(
        Array.from({ length: 8 }, (_, i) => write(1, `update-${i}`)),
      );
      const won = updates.filter((r) => r.status === 200);
      expect(won).toHaveLength(1);
      expect(won[0].body.data.version).toBe(2);
      const refusals = updates.filter((r) => r.status !== 200).map((r) => r.body as unknown);
      expect(refusals).toEqual(
        Array(7).fill({ errors: ['check-and-set parameter did not match the current version'] }),
      );

      // The winner's value is what reads back, at version 2, and the versions are whole.
      const read = await sut.http
        .get('/v1/secret/data/acme/race/one')
        .set(vault(writer.headers))
        .expect(200);
      const winner = updates.indexOf(won[0]);
      expect(read.body.data).toMatchObject({
        data: { token: `update-${winner}` },
        metadata: { version: 2 },
      });
      const db = await openDirect(database);
      try {
        const query: Query = (sql, params) => db.query(sql, params);
        const [{ id }] = await query<{ id: string }>(
          "SELECT id FROM credentials WHERE path = 'acme/race/one'",
        );
        expect(await versionViolations(query, [id])).toEqual([]);
      } finally {
        await db.destroy();
      }
    });
  });

  describe('when sealed', () => {
    let sealed: TestApp;

    beforeAll(async () => {
      // Another master key than the one the database was set up with: the keyring stays sealed.
      sealed = await startApp(database, { env: { CUSTOS_MASTER_KEY: randomMasterKey() } });
    });

    afterAll(async () => {
      await sealed?.close();
    });

    it('should answer health with 503 and sealed: true, or the sealedcode asked for', async () => {
      const response = await sealed.http.get('/v1/sys/health').expect(503);
      expect(response.body).toEqual(expect.objectContaining({ initialized: true, sealed: true }));
      expect(response.headers['content-type']).toBe('application/json');
      await sealed.http.get('/v1/sys/health?sealedcode=200').expect(200);
    });

    it('should answer every other /v1 route with Vault’s sealed error and do nothing', async () => {
      const response = await sealed.http
        .post('/v1/secret/data/acme/while-sealed')
        .set(vault(writer.headers))
        .send({ data: { a: 'b' } })
        .expect(503);
      expect(response.body).toEqual({ errors: ['Vault is sealed'] });
      await sealed.http.post('/v1/auth/approle/login').send({}).expect(503);
    });
  });

  describe('when disabled', () => {
    let off: TestApp;

    beforeAll(async () => {
      off = await startApp(database, { env: { VAULT_COMPAT_ENABLED: 'false' } });
    });

    afterAll(async () => {
      await off?.close();
    });

    it('should answer 404 on every /v1 route and do nothing', async () => {
      await off.http.get('/v1/sys/health').expect(404);
      await off.http
        .post('/v1/secret/data/acme/disabled')
        .set(vault(writer.headers))
        .send({ data: { a: 'b' } })
        .expect(404);
      await off.http.get('/api/v1/health/live').expect(200);
      const listed = await sut.http
        .get('/api/v1/credentials?pathPrefix=acme/disabled')
        .set({ authorization: admin })
        .expect(200);
      expect(listed.body.items).toEqual([]);
    });
  });
});
