import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import HashiVault from 'hashi-vault-js';
import nodeVault from 'node-vault';
import { ScratchDatabase } from '../src/database/cli/scratch-database';
import { Headers } from './helpers/credential-fixtures';
import { serviceWithGrants } from './helpers/principals';
import { bearerFor, listening, scratchMariadb, startApp, TestApp } from './helpers/test-app';

/**
 * Issue 13: Vault clients, unchanged, against Custos's Vault KV v2 API under /v1 on MariaDB.
 * node-vault and hashi-vault-js are dev dependencies; hvac is Debian's python3-hvac, installed by
 * .ci/run, driven by test/vault-clients/hvac_check.py. Each client has a service account of its
 * own granted `vc/<client>/app/*`; `vc/restricted/db` exists but no grant covers it.
 */

const API = '/api/v1';
const BASE_ENV = {
  JWT_SECRET: 'vault-clients-e2e-jwt-secret-0123456789abcdef',
  THROTTLE_LIMIT: '100000',
  LOGIN_THROTTLE_LIMIT: '100000',
};
/** Debian's interpreter: python3-hvac lives in its dist-packages (a pyenv python3 cannot see it). */
const PYTHON = '/usr/bin/python3';
const HVAC_SCRIPT = join(__dirname, 'vault-clients', 'hvac_check.py');
const FORBIDDEN_PATH = 'vc/restricted/db';
/** The folder of FORBIDDEN_PATH: no client's grant reaches inside it. */
const FORBIDDEN_FOLDER = 'vc/restricted';
const FORBIDDEN_SECRET = { username: 'root', password: 'restricted-Pw-7c1e' };
const GRANT = ['read', 'reveal', 'write'];

interface Client {
  /** The service account's id: the AppRole role_id. */
  roleId: string;
  /** Its API key: the Vault token and the AppRole secret_id. */
  apiKey: string;
  /** A kv credential at version 1, made through the native API. */
  path: string;
  v1: Record<string, string>;
}

interface KvRead {
  data: { data: Record<string, string>; metadata: { version: number } };
}

interface KvWrite {
  data: { version: number };
}

interface Health {
  initialized: boolean;
  sealed: boolean;
  standby: boolean;
  version: string;
}

interface NodeVaultError {
  message: string;
  response: { statusCode: number; body: { errors?: string[] } };
}

interface HashiVaultError {
  isVaultError?: boolean;
  response?: { status: number; data: { errors?: string[] } };
}

interface StepResult<T> {
  ok: boolean;
  value?: T;
  error?: string;
  message?: string;
  errors?: string[] | null;
}

interface HvacReport {
  hvacVersion: string;
  readPassesRaiseOnDeletedVersion: boolean;
  isAuthenticated: StepResult<boolean>;
  strangerIsAuthenticated: StepResult<boolean>;
  health: StepResult<Health & { statusCode?: number }>;
  healthHead: StepResult<{ statusCode: number }>;
  readV1: StepResult<{ data: Record<string, string>; version: number }>;
  writeCas1: StepResult<{ version: number }>;
  writeCasStale: StepResult<{ version: number }>;
  readLatest: StepResult<{ data: Record<string, string>; version: number }>;
  readVersion1: StepResult<{ data: Record<string, string>; version: number }>;
  approle: StepResult<{
    clientTokenIsString: boolean;
    clientUsesToken: boolean;
    isAuthenticated: boolean;
    read: { data: Record<string, string>; version: number };
  }>;
  forbiddenRead: StepResult<unknown>;
  forbiddenWrite: StepResult<unknown>;
  forbiddenCreate: StepResult<unknown>;
  list: StepResult<string[]>;
  forbiddenList: StepResult<unknown>;
}

/** The rejection of a promise, failing the test if it resolved. */
async function rejectionOf<E>(promise: PromiseLike<unknown>): Promise<E> {
  try {
    await promise;
  } catch (error) {
    return error as E;
  }
  throw new Error('expected the call to fail, it succeeded');
}

/**
 * hashi-vault-js's updateKVSecret console.logs the whole axios response when it fails (a page of
 * output per refusal); the refusal itself is what the test asserts on.
 */
async function withoutConsoleLog<T>(work: () => PromiseLike<T>): Promise<T> {
  const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
  try {
    return await work();
  } finally {
    log.mockRestore();
  }
}

describe('Vault clients against the Vault KV v2 API (MariaDB)', () => {
  let database: ScratchDatabase;
  let sut: TestApp;
  let url: string;
  let admin: Headers;

  /** A kv credential made through the native REST API, as a person would store it. */
  async function storeKv(path: string, secret: Record<string, string>): Promise<void> {
    await sut.http
      .post(`${API}/credentials`)
      .set(admin)
      .send({ path, name: path, type: 'kv', secret })
      .expect(201);
  }

  /** The current secret and version at a path, read through the native API as the service. */
  async function nativeRead(
    client: Client,
    path: string,
  ): Promise<{ version: number; secret: Record<string, unknown> }> {
    const response = await sut.http
      .get(`${API}/secrets/${path}`)
      .set({ 'x-api-key': client.apiKey })
      .expect(200);
    return response.body as { version: number; secret: Record<string, unknown> };
  }

  async function clientFor(name: string): Promise<Client> {
    const account = await serviceWithGrants(sut, admin.authorization, [
      { pathPattern: `vc/${name}/app/*`, capabilities: GRANT },
    ]);
    const path = `vc/${name}/app/db`;
    const v1 = { username: `${name}-app`, password: `v1-${name}-Pw-41f0` };
    await storeKv(path, v1);
    return { roleId: account.id, apiKey: account.headers['x-api-key'], path, v1 };
  }

  beforeAll(async () => {
    database = await scratchMariadb();
    sut = await startApp(database, { env: BASE_ENV });
    url = (await listening(sut)).url;
    admin = { authorization: await bearerFor(sut, 'admin') };
    await storeKv(FORBIDDEN_PATH, FORBIDDEN_SECRET);
  });

  afterAll(async () => {
    await sut?.close();
    await database?.drop();
  });

  describe('node-vault', () => {
    let client: Client;
    let vault: nodeVault.client;

    beforeAll(async () => {
      client = await clientFor('node-vault');
      vault = nodeVault({ endpoint: url, token: client.apiKey });
    });

    it('should report a healthy, unsealed, initialised server', async () => {
      const health = (await vault.health()) as Health;

      expect(health).toMatchObject({ initialized: true, sealed: false, standby: false });
      expect(typeof health.version).toBe('string');
    });

    it('should read the secret stored through the native API, with an API key as the token', async () => {
      const answer = (await vault.read(`secret/data/${client.path}`)) as KvRead;

      expect(answer.data.data).toEqual(client.v1);
      expect(answer.data.metadata.version).toBe(1);
    });

    it('should write a new version with the right cas and refuse a stale cas with 400', async () => {
      const v2 = { username: 'node-vault-app', password: 'v2-node-vault-Pw-9a2c' };

      const written = (await vault.write(`secret/data/${client.path}`, {
        options: { cas: 1 },
        data: v2,
      })) as KvWrite;
      const stale = await rejectionOf<NodeVaultError>(
        vault.write(`secret/data/${client.path}`, { options: { cas: 1 }, data: { stale: 'x' } }),
      );

      expect(written.data.version).toBe(2);
      expect(stale.response.statusCode).toBe(400);
      expect(stale.message).toMatch(/check-and-set/);
      await expect(nativeRead(client, client.path)).resolves.toMatchObject({
        version: 2,
        secret: v2,
      });
    });

    it('should read an earlier version with ?version=N', async () => {
      const answer = (await vault.read(`secret/data/${client.path}?version=1`)) as KvRead;

      expect(answer.data.data).toEqual(client.v1);
      expect(answer.data.metadata.version).toBe(1);
    });

    it('should log in with AppRole and read with the token it gets', async () => {
      const fresh = nodeVault({ endpoint: url });

      const login = (await fresh.approleLogin({
        role_id: client.roleId,
        secret_id: client.apiKey,
      })) as { auth: { client_token: string } };
      const answer = (await fresh.read(`secret/data/${client.path}`)) as KvRead;

      expect(typeof login.auth.client_token).toBe('string');
      expect(fresh.token).toBe(login.auth.client_token);
      expect(answer.data.metadata.version).toBe(2);
      expect(answer.data.data.password).toBe('v2-node-vault-Pw-9a2c');
    });

    it('should get permission denied (403) on a path its grants do not cover', async () => {
      const read = await rejectionOf<NodeVaultError>(vault.read(`secret/data/${FORBIDDEN_PATH}`));
      const write = await rejectionOf<NodeVaultError>(
        vault.write(`secret/data/${FORBIDDEN_PATH}`, { data: { intruder: 'x' } }),
      );
      const create = await rejectionOf<NodeVaultError>(
        vault.write(`secret/data/${FORBIDDEN_PATH}-node-vault-new`, { data: { intruder: 'x' } }),
      );

      // All three at once, so a failure shows every answer.
      expect({
        read: [read.response.statusCode, read.message],
        write: [write.response.statusCode, write.message],
        create: [create.response.statusCode, create.message],
      }).toEqual({
        read: [403, 'permission denied'],
        write: [403, 'permission denied'],
        create: [403, 'permission denied'],
      });
    });

    it('should list its own folder, and get permission denied listing a folder its grants do not reach', async () => {
      const own = (await vault.list('secret/metadata/vc/node-vault/app')) as {
        data: { keys: string[] };
      };
      const parent = (await vault.list('secret/metadata/vc')) as { data: { keys: string[] } };
      const refused = await rejectionOf<NodeVaultError>(
        vault.list(`secret/metadata/${FORBIDDEN_FOLDER}`),
      );

      expect(own.data.keys).toEqual(['db']);
      // Only what it may read: not restricted/, nor the other clients' folders.
      expect(parent.data.keys).toEqual(['node-vault/']);
      expect([refused.response.statusCode, refused.message]).toEqual([403, 'permission denied']);
    });
  });

  describe('hashi-vault-js', () => {
    let client: Client;
    let vault: HashiVault;

    beforeAll(async () => {
      client = await clientFor('hashi-vault-js');
      // Its default timeout is 1 s; the shared machines are slower than that at times.
      vault = new HashiVault({ baseUrl: `${url}/v1`, timeout: 20_000 });
    });

    it('should report a healthy, unsealed, initialised server', async () => {
      const health = (await vault.healthCheck()) as Health;

      expect(health).toMatchObject({ initialized: true, sealed: false, standby: false });
      expect(typeof health.version).toBe('string');
    });

    it('should read the secret stored through the native API, with an API key as the token', async () => {
      const answer = (await vault.readKVSecret(client.apiKey, client.path)) as KvRead['data'];

      expect(answer.data).toEqual(client.v1);
      expect(answer.metadata.version).toBe(1);
    });

    it('should update with the right cas and refuse a stale cas with 400', async () => {
      const v2 = { username: 'hashi-vault-js-app', password: 'v2-hashi-Pw-3d7b' };

      const written = (await vault.updateKVSecret(client.apiKey, client.path, v2, 1)) as {
        version: number;
      };
      const stale = await withoutConsoleLog(() =>
        rejectionOf<HashiVaultError>(
          vault.updateKVSecret(client.apiKey, client.path, { stale: 'x' }, 1),
        ),
      );

      expect(written.version).toBe(2);
      expect(stale.isVaultError).toBe(true);
      expect(stale.response?.status).toBe(400);
      await expect(nativeRead(client, client.path)).resolves.toMatchObject({
        version: 2,
        secret: v2,
      });
    });

    it('should create a new kv credential (cas 0) once and refuse to create it again', async () => {
      const path = 'vc/hashi-vault-js/app/created';
      const secret = { token: 'created-by-hashi-vault-js-5e8f' };

      const created = (await vault.createKVSecret(client.apiKey, path, secret)) as {
        version: number;
      };
      const again = await rejectionOf<HashiVaultError>(
        vault.createKVSecret(client.apiKey, path, { token: 'second' }),
      );

      expect(created.version).toBe(1);
      expect(again.response?.status).toBe(400);
      await expect(nativeRead(client, path)).resolves.toMatchObject({ version: 1, secret });
      const metadata = await sut.http
        .get(`${API}/credentials`)
        .query({ pathPrefix: path })
        .set(admin)
        .expect(200);
      expect((metadata.body as { items: { path: string; type: string }[] }).items).toEqual([
        expect.objectContaining({ path, type: 'kv' }),
      ]);
    });

    it('should read an earlier version', async () => {
      const answer = (await vault.readKVSecret(client.apiKey, client.path, 1)) as KvRead['data'];

      expect(answer.data).toEqual(client.v1);
      expect(answer.metadata.version).toBe(1);
    });

    it('should log in with AppRole and read with the token it gets', async () => {
      const auth = (await Promise.resolve(
        vault.loginWithAppRole(client.roleId, client.apiKey),
      )) as { client_token: string };
      const answer = (await vault.readKVSecret(auth.client_token, client.path)) as KvRead['data'];

      expect(typeof auth.client_token).toBe('string');
      expect(answer.metadata.version).toBe(2);
      expect(answer.data.password).toBe('v2-hashi-Pw-3d7b');
    });

    it('should get permission denied (403) on a path its grants do not cover', async () => {
      const read = await rejectionOf<HashiVaultError>(
        vault.readKVSecret(client.apiKey, FORBIDDEN_PATH),
      );
      const write = await withoutConsoleLog(() =>
        rejectionOf<HashiVaultError>(
          vault.updateKVSecret(client.apiKey, FORBIDDEN_PATH, { intruder: 'x' }, 1),
        ),
      );
      const create = await rejectionOf<HashiVaultError>(
        vault.createKVSecret(client.apiKey, `${FORBIDDEN_PATH}-hashi-vault-js-new`, {
          intruder: 'x',
        }),
      );
      const list = await rejectionOf<HashiVaultError>(
        vault.listKVSecrets(client.apiKey, FORBIDDEN_FOLDER),
      );

      expect(read.isVaultError).toBe(true);
      expect({
        read: [read.response?.status, read.response?.data.errors],
        write: [write.response?.status, write.response?.data.errors],
        create: [create.response?.status, create.response?.data.errors],
        list: [list.response?.status, list.response?.data.errors],
      }).toEqual({
        read: [403, ['permission denied']],
        write: [403, ['permission denied']],
        create: [403, ['permission denied']],
        list: [403, ['permission denied']],
      });
    });

    it('should list its own folder', async () => {
      const listed = (await vault.listKVSecrets(client.apiKey, 'vc/hashi-vault-js/app')) as {
        keys: string[];
      };

      expect(listed.keys).toEqual(['created', 'db']);
    });
  });

  describe('hvac (python3-hvac)', () => {
    let client: Client;
    let report: HvacReport;
    const v2 = { username: 'hvac-app', password: 'v2-hvac-Pw-6b1d' };

    beforeAll(async () => {
      client = await clientFor('hvac');
      const home = mkdtempSync(join(tmpdir(), 'custos-hvac-'));
      try {
        // No VAULT_* variable and an empty HOME: hvac would otherwise take a token from
        // $VAULT_TOKEN or ~/.vault-token when none is given (the AppRole client).
        const { stdout } = await promisify(execFile)(PYTHON, [HVAC_SCRIPT], {
          env: {
            PATH: process.env.PATH,
            HOME: home,
            CUSTOS_VAULT_ADDR: url,
            CUSTOS_VAULT_TOKEN: client.apiKey,
            CUSTOS_ROLE_ID: client.roleId,
            CUSTOS_SECRET_ID: client.apiKey,
            CUSTOS_KV_PATH: client.path,
            CUSTOS_KV_NEW_DATA: JSON.stringify(v2),
            CUSTOS_FORBIDDEN_PATH: FORBIDDEN_PATH,
          },
          timeout: 60_000,
        });
        report = JSON.parse(stdout) as HvacReport;
      } catch (error) {
        const failure = error as { code?: string | number; stdout?: string; stderr?: string };
        throw new Error(
          failure.code === 'ENOENT' || failure.code === 3
            ? `hvac is not installed: run .ci/run, or apt-get install -y python3-hvac (${PYTHON} must import hvac). ${failure.stdout ?? ''}`
            : `hvac_check.py failed: ${String(error)}\n${failure.stderr ?? ''}`,
          { cause: error },
        );
      } finally {
        rmSync(home, { recursive: true, force: true });
      }
    });

    it('should tell an authenticated token from an unknown one', () => {
      expect(report.isAuthenticated).toEqual({ ok: true, value: true });
      expect(report.strangerIsAuthenticated).toEqual({ ok: true, value: false });
    });

    it('should read the health status with GET and with its default HEAD', () => {
      expect(report.healthHead).toEqual({ ok: true, value: { statusCode: 200 } });
      expect(report.health.ok).toBe(true);
      expect(report.health.value).toMatchObject({
        initialized: true,
        sealed: false,
        standby: false,
      });
    });

    it('should read the secret stored through the native API', () => {
      expect(report.readV1).toEqual({ ok: true, value: { data: client.v1, version: 1 } });
    });

    it('should write with cas and refuse a stale cas with InvalidRequest', async () => {
      expect(report.writeCas1).toEqual({ ok: true, value: { version: 2 } });
      expect(report.writeCasStale).toMatchObject({ ok: false, error: 'InvalidRequest' });
      expect(report.readLatest).toEqual({ ok: true, value: { data: v2, version: 2 } });
      await expect(nativeRead(client, client.path)).resolves.toMatchObject({
        version: 2,
        secret: v2,
      });
    });

    it('should read an earlier version', () => {
      expect(report.readVersion1).toEqual({ ok: true, value: { data: client.v1, version: 1 } });
    });

    it('should log in with AppRole and read with the token it gets', () => {
      expect(report.approle).toEqual({
        ok: true,
        value: {
          clientTokenIsString: true,
          clientUsesToken: true,
          isAuthenticated: true,
          read: { data: v2, version: 2 },
        },
      });
    });

    it('should raise Forbidden on a path its grants do not cover', () => {
      expect({
        read: report.forbiddenRead,
        write: report.forbiddenWrite,
        create: report.forbiddenCreate,
      }).toMatchObject({
        read: { ok: false, error: 'Forbidden', errors: ['permission denied'] },
        write: { ok: false, error: 'Forbidden', errors: ['permission denied'] },
        create: { ok: false, error: 'Forbidden', errors: ['permission denied'] },
      });
    });

    it('should list its own folder, and raise Forbidden listing one its grants do not reach', () => {
      expect(report.list).toEqual({ ok: true, value: ['db'] });
      expect(report.forbiddenList).toMatchObject({
        ok: false,
        error: 'Forbidden',
        errors: ['permission denied'],
      });
    });

    it('should have created nothing where the clients were refused', async () => {
      const refused = await sut.http
        .get(`${API}/credentials`)
        .query({ pathPrefix: 'vc/restricted/' })
        .set(admin)
        .expect(200);
      const items = (refused.body as { items: { path: string; currentVersion: number }[] }).items;

      expect(items.map(({ path, currentVersion }) => ({ path, currentVersion }))).toEqual([
        { path: FORBIDDEN_PATH, currentVersion: 1 },
      ]);
    });

    it('should run the Debian package the README names', () => {
      expect(report.hvacVersion).toMatch(/^\d+\.\d+\.\d+/);
    });
  });
});
