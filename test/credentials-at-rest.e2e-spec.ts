import { FINGERPRINTED_FIELD } from '../src/credentials/version-crypto';
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { ScratchDatabase } from '../src/database/cli/scratch-database';
import { computeCheckValue } from '../src/crypto/purpose-keys';
import {
  RSA_CERTIFICATE,
  RSA_PRIVATE_KEY,
} from '../src/credentials/secrets/__fixtures__/certificate-fixtures';
import type { CredentialType } from '../src/credentials/secrets/credential-type';
import { openDirect } from './helpers/audit-db';
import { ensureBuilt, freePort, spawnApp, SpawnedApp, waitForHttp } from './helpers/spawned-app';
import { bearerFor, randomMasterKey, scratchMariadb, startApp, TestApp } from './helpers/test-app';
import { encodedForms } from './helpers/encoded-forms';

/**
 * DESIGN.md §4.1-4.3 end to end: no secret at rest, in logs, in audit or in any response but
 * reveal's; a moved or changed envelope never decrypts; a reveal that cannot be audited returns
 * nothing; and a wrong master key seals the service without touching the data.
 */

const API = '/api/v1';

/** A unique marker put in a secret; found anywhere but a reveal response, it is a leak. */
interface Canary {
  label: string;
  value: string;
  /** Where it was sent: in a secret (or a bad request carrying one), or in a URL's query string. */
  via: 'body' | 'query';
}

class Canaries {
  readonly all: Canary[] = [];

  /** `CANARY-<label>-<random>`, for secrets that are free text. */
  make(label: string, via: Canary['via'] = 'body'): string {
    return this.add(label, `CANARY-${label}-${randomBytes(8).toString('hex')}`, via);
  }

  /**
   * A PEM key cannot carry a marker, so 40 characters from inside one line of its base64 body
   * stand in for it (inside one line, so the JSON-escaped newlines of the PEM do not matter).
   */
  fromPem(label: string, pem: string): string {
    const lines = pem.split('\n').filter((line) => line.length === 64);
    return this.add(label, lines[Math.floor(lines.length / 2)].slice(12, 52), 'body');
  }

  add(label: string, value: string, via: Canary['via']): string {
    this.all.push({ label, value, via });
    return value;
  }

  of(via: Canary['via']): Canary[] {
    return this.all.filter((canary) => canary.via === via);
  }
}

/** Every reading of a stored value: Buffers as text, hex and base64; encoded strings decoded too. */
function renderings(value: unknown): string[] {
  if (value === null || value === undefined) return [];
  if (Buffer.isBuffer(value)) {
    return [
      value.toString('utf8'),
      value.toString('latin1'),
      value.toString('hex'),
      value.toString('base64'),
    ];
  }
  if (value instanceof Date) return [value.toISOString()];
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  const decoded: string[] = [];
  if (/^[A-Za-z0-9+/_=-]{16,}$/.test(text)) {
    decoded.push(Buffer.from(text, 'base64').toString('utf8'));
    decoded.push(Buffer.from(text, 'base64url').toString('utf8'));
  }
  if (/^([0-9a-fA-F]{2}){8,}$/.test(text)) decoded.push(Buffer.from(text, 'hex').toString('utf8'));
  return [text, ...decoded];
}

/** The canaries found in `haystack`, in any encoding, by label (empty when there is no leak). */
function leaksIn(haystack: string, canaries: Canary[]): string[] {
  return canaries
    .filter((canary) => encodedForms(canary.value).some((form) => haystack.includes(form)))
    .map((canary) => canary.label);
}

/** One secret of every type, each of its fields carrying a canary (fields in the types' order). */
/** The types whose secret has one fingerprinted field (every type but kv, a free map). */
type FieldType = keyof typeof FINGERPRINTED_FIELD;

function secretsOfEveryType(canaries: Canaries): Record<FieldType, Record<string, unknown>> {
  const sshPassphrase = canaries.make('ssh-passphrase');
  const { privateKey: sshKey } = generateKeyPairSync('ed25519', {
    privateKeyEncoding: {
      type: 'pkcs8',
      format: 'pem',
      cipher: 'aes-256-cbc',
      passphrase: sshPassphrase,
    },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  canaries.fromPem('ssh-private-key', sshKey);
  const certificateKey = canaries.fromPem('certificate-private-key', RSA_PRIVATE_KEY);
  // The key holds the certificate's modulus: the marker must come from the private part.
  if (RSA_CERTIFICATE.replace(/\n/g, '').includes(certificateKey))
    throw new Error('the certificate canary is not private to the key');
  const header = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
  const claims = Buffer.from(
    JSON.stringify({
      sub: 'billing-api',
      exp: Math.floor(Date.now() / 1000) + 3600,
      note: canaries.make('jwt-claim'),
    }),
  ).toString('base64url');
  let signature = `CANARY-jwt-signature-${randomBytes(8).toString('hex')}`;
  if (signature.length % 4 === 1) signature += 'A'; // 4n+1 characters cannot be base64url
  canaries.add('jwt-signature', signature, 'body');
  return {
    password: { password: canaries.make('password') },
    api_key: { apiKey: canaries.make('api-key') },
    oauth: {
      clientId: canaries.make('oauth-client-id'),
      clientSecret: canaries.make('oauth-client-secret'),
      tokenUrl: `https://auth.example.test/${canaries.make('oauth-token-url')}/token`,
      scopes: ['read', canaries.make('oauth-scope')],
    },
    ssh_key: { privateKey: sshKey, passphrase: sshPassphrase },
    shared_secret: { secret: canaries.make('shared-secret') },
    jwt: { token: `${header}.${claims}.${signature}` },
    connection_string: {
      connectionString: `postgres://${canaries.make('conn-user')}:${canaries.make('conn-password')}@db.example.test:5432/app`,
    },
    certificate: { certificate: RSA_CERTIFICATE, privateKey: RSA_PRIVATE_KEY },
  };
}

/** Waits until the spawned service answers ready (migrated, keyring open). */
async function waitForReady(app: SpawnedApp): Promise<void> {
  await waitForHttp(app, `${API}/health/live`);
  for (let i = 0; i < 100; i++) {
    if ((await fetch(`${app.baseUrl}${API}/health/ready`)).status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the service did not become ready:\n${app.output()}`);
}

const TYPES = Object.keys(FINGERPRINTED_FIELD) as FieldType[];
const pathOf = (type: CredentialType) => `leak-scan/${type.replace('_', '-')}`;

interface Exchange {
  request: string;
  status: number;
  headers: string;
  body: string;
  /** A reveal: the one response allowed to carry a secret. */
  reveal: boolean;
}

interface Reply {
  status: number;
  body: Record<string, unknown>;
  text: string;
}

interface VersionRow {
  credential_id: string;
  version: number;
  ciphertext: Buffer | null;
  iv: string | null;
  tag: string | null;
  wrapped_dek: string | null;
  kek_id: string | null;
  fingerprint: string | null;
}

describe('The leak scan itself', () => {
  const canary = `CANARY-self-check-${randomBytes(8).toString('hex')}`;
  const only = [{ label: 'self-check', value: canary, via: 'body' as const }];
  const scan = (value: unknown) => leaksIn(renderings(value).join('\n'), only);

  it('should find a canary stored raw, in hex or in base64 at any alignment', () => {
    for (let offset = 0; offset < 3; offset++) {
      const bytes = Buffer.concat([randomBytes(offset + 5), Buffer.from(canary), randomBytes(7)]);
      expect(scan(bytes)).toEqual(['self-check']);
      expect(scan(bytes.toString('hex'))).toEqual(['self-check']);
      expect(scan(bytes.toString('base64'))).toEqual(['self-check']);
      expect(scan(bytes.toString('base64url'))).toEqual(['self-check']);
      expect(scan({ nested: [bytes.toString('base64')] })).toEqual(['self-check']);
    }
  });

  it('should not find it in random bytes', () => {
    expect(scan(randomBytes(4096))).toEqual([]);
  });
});

describe('Secrets at rest in a running service (spawned process, MariaDB)', () => {
  const canaries = new Canaries();
  const exchanges: Exchange[] = [];
  const sent = secretsOfEveryType(canaries);
  const ids = new Map<FieldType, string>();
  const passwordV2: Record<string, unknown> = { password: canaries.make('password-v2') };
  let database: ScratchDatabase;
  let db: DataSource;
  let dataDir: string;
  let app: SpawnedApp;
  let authorization = '';
  /** Every row of every table, after the service stopped. */
  let dump: Record<string, Record<string, unknown>[]>;

  /** One HTTP exchange with the spawned service, kept for the response check. */
  async function call(
    method: string,
    path: string,
    options: { body?: unknown; raw?: string; reveal?: boolean } = {},
  ): Promise<Reply> {
    const headers: Record<string, string> = {};
    if (authorization) headers.authorization = authorization;
    if (options.body !== undefined || options.raw !== undefined)
      headers['content-type'] = 'application/json';
    const response = await fetch(`${app.baseUrl}${API}${path}`, {
      method,
      headers,
      body: options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
    });
    const text = await response.text();
    exchanges.push({
      request: `${method} ${path}`,
      status: response.status,
      headers: JSON.stringify([...response.headers.entries()]),
      body: text,
      reveal: options.reveal ?? false,
    });
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // not JSON: the text is kept
    }
    return { status: response.status, body, text };
  }

  async function expectStatus(status: number, pending: Promise<Reply>) {
    const response = await pending;
    if (response.status !== status)
      throw new Error(`expected ${status}, got ${response.status}: ${response.text}`);
    return response;
  }

  async function signInAsBootstrapAdmin(): Promise<void> {
    const initial = readFileSync(join(dataDir, 'initial-admin-password'), 'utf8').trim();
    const first = await expectStatus(
      200,
      call('POST', '/auth/login', { body: { email: 'admin@localhost', password: initial } }),
    );
    const newPassword = `Leak-Scan-${randomBytes(9).toString('base64url')}`;
    authorization = `Bearer ${String(first.body.accessToken)}`;
    await expectStatus(
      204,
      call('POST', '/auth/password', { body: { currentPassword: initial, newPassword } }),
    );
    authorization = '';
    const login = await expectStatus(
      200,
      call('POST', '/auth/login', { body: { email: 'admin@localhost', password: newPassword } }),
    );
    authorization = `Bearer ${String(login.body.accessToken)}`;
  }

  /** Secrets in every shape a client can get wrong: each answered 4xx without quoting it. */
  async function sendBadRequests(passwordId: string): Promise<void> {
    const c = (label: string) => canaries.make(`bad-${label}`);
    const create = (type: string, secret: unknown, extra: object = {}) =>
      call('POST', '/credentials', {
        body: {
          path: `leak-scan/bad-${randomBytes(4).toString('hex')}`,
          name: 'x',
          type,
          secret,
          ...extra,
        },
      });
    const refused = [
      await create('password', { password: c('password'), extra: c('extra-field') }),
      await create('api_key', { key: c('misnamed-field') }),
      await create('password', { [c('secret-as-key')]: 'x' }),
      await create('oauth', { clientId: c('oauth-id'), clientSecret: [c('oauth-array')] }),
      await create('ssh_key', { privateKey: c('not-pem'), passphrase: c('not-pem-pass') }),
      await create('jwt', { token: c('not-a-jwt') }),
      await create('certificate', { certificate: c('not-a-cert'), privateKey: c('not-a-key') }),
      await create('banana', { password: c('unknown-type') }),
      await create('password', { password: c('top-level') }, { password: c('top-level-dup') }),
      await create('password', c('secret-as-string')),
      await call('PUT', `/credentials/${passwordId}/secret`, {
        body: { secret: { password: c('put-extra'), extra: c('put-extra-field') } },
      }),
      await call('PUT', `/credentials/${passwordId}/secret`, {
        body: { secret: { apiKey: c('put-wrong-type') } },
      }),
      await call('PATCH', `/credentials/${passwordId}`, {
        body: { secret: { password: c('patch-secret') } },
      }),
      await call('POST', '/credentials', {
        raw: `{"path":"leak-scan/broken","name":"x","type":"password","secret":{"password":${c('broken-json')}}}`,
      }),
    ];
    // A valid secret at a path that is taken: refused after the secret was read.
    refused.push(
      await call('POST', '/credentials', {
        body: {
          path: pathOf('password'),
          name: 'dup',
          type: 'password',
          secret: { password: c('path-taken') },
        },
      }),
    );
    for (const response of refused) {
      if (response.status < 400 || response.status >= 500)
        throw new Error(`a bad request was answered ${response.status}: ${response.text}`);
    }
    // Secrets in query strings: refused or ignored, never repeated.
    await call('GET', `/credentials?token=${canaries.make('query-token', 'query')}`);
    await call('GET', `/nowhere?secret=${canaries.make('query-unmatched', 'query')}`);
    const inQuery = canaries.make('query-reveal', 'query');
    await call('POST', `/credentials/${passwordId}/reveal?password=${inQuery}`, {
      body: {},
      reveal: true,
    });
  }

  /** The relay has fed the file sink every committed event, and nothing is still being written. */
  async function waitForOutboxDrained(): Promise<void> {
    let previous = -1;
    for (let i = 0; i < 100; i++) {
      const [{ events, pending }] = await db.query<{ events: string; pending: string }[]>(
        'SELECT (SELECT COUNT(*) FROM audit_events) AS events, (SELECT COUNT(*) FROM outbox) AS pending',
      );
      if (Number(pending) === 0 && Number(events) === previous) return;
      previous = Number(events);
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    throw new Error('the outbox relay did not drain');
  }

  beforeAll(async () => {
    ensureBuilt();
    database = await scratchMariadb();
    dataDir = mkdtempSync(join(tmpdir(), 'custos-at-rest-'));
    app = spawnApp(
      {
        DATABASE_URL: database.url!,
        CUSTOS_DATA_DIR: dataDir,
        CUSTOS_MASTER_KEY: randomMasterKey(),
        AUDIT_SINKS: 'file',
        AUDIT_RELAY_INTERVAL_MS: '100',
        LOG_LEVEL: 'trace',
      },
      await freePort(),
    );
    await waitForReady(app);
    db = await openDirect(database);
    await signInAsBootstrapAdmin();

    for (const type of TYPES) {
      const created = await expectStatus(
        201,
        call('POST', '/credentials', {
          body: { path: pathOf(type), name: `Leak scan ${type}`, type, secret: sent[type] },
        }),
      );
      ids.set(type, String(created.body.id));
    }
    const passwordId = ids.get('password')!;
    await expectStatus(
      200,
      call('PUT', `/credentials/${passwordId}/secret`, { body: { secret: passwordV2 } }),
    );
    await expectStatus(200, call('GET', '/credentials'));
    await expectStatus(200, call('GET', '/credentials?type=ssh_key&pathPrefix=leak-scan/'));
    for (const id of ids.values()) {
      await expectStatus(200, call('GET', `/credentials/${id}`));
      await expectStatus(200, call('GET', `/credentials/${id}/versions`));
    }
    await expectStatus(
      200,
      call('PATCH', `/credentials/${ids.get('oauth')!}`, {
        body: { description: 'Billing OAuth client', tags: ['billing', 'prod'] },
      }),
    );
    for (const type of TYPES) {
      await expectStatus(
        200,
        call('POST', `/credentials/${ids.get(type)!}/reveal`, {
          body: { reason: 'leak scan' },
          reveal: true,
        }),
      );
    }
    await expectStatus(
      200,
      call('POST', `/credentials/${passwordId}/reveal`, { body: { version: 1 }, reveal: true }),
    );
    await expectStatus(200, call('GET', `/secrets/${pathOf('api_key')}`, { reveal: true }));
    await sendBadRequests(passwordId);
    await expectStatus(200, call('GET', '/audit/events?limit=500'));
    await expectStatus(200, call('GET', '/audit/events/export'));

    await waitForOutboxDrained();
    expect(await app.stop()).toBe(0);
    dump = {};
    const tables = await db.query<Record<string, string>[]>('SHOW TABLES');
    for (const table of tables.map((row) => Object.values(row)[0])) {
      dump[table] = await db.query(`SELECT * FROM \`${table}\``);
    }
  }, 60_000);

  afterAll(async () => {
    await app?.stop();
    await db?.destroy();
    await database?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('should answer each reveal with the secret exactly as it was stored', () => {
    const revealed = exchanges
      .filter((exchange) => exchange.reveal && exchange.status === 200)
      .map((exchange) => JSON.parse(exchange.body) as { id: string; secret: unknown });
    const secretsOf = (type: FieldType) =>
      revealed.filter((r) => r.id === ids.get(type)).map((r) => r.secret);
    for (const type of TYPES) expect(secretsOf(type)).toContainEqual(sent[type]);
    expect(secretsOf('password')).toContainEqual(passwordV2);
    // Every secret's canary came back from a reveal: the scans below look for real values.
    const secretCanaries = canaries.of('body').filter((c) => !c.label.startsWith('bad-'));
    expect(leaksIn(JSON.stringify(revealed), secretCanaries)).toEqual(
      secretCanaries.map((c) => c.label),
    );
  });

  it('should keep every canary out of every table of the database', () => {
    expect(Object.keys(dump)).toEqual(
      expect.arrayContaining(['credentials', 'credential_versions', 'audit_events', 'outbox']),
    );
    const found: string[] = [];
    for (const [table, rows] of Object.entries(dump)) {
      for (const row of rows) {
        for (const [column, value] of Object.entries(row)) {
          const text = renderings(value).join('\n');
          for (const label of leaksIn(text, canaries.all))
            found.push(`${label} in ${table}.${column}`);
        }
      }
    }
    expect(found).toEqual([]);
  });

  it('should store each version as an AES-GCM envelope as long as its secret under the master key', () => {
    const versions = dump.credential_versions as unknown as VersionRow[];
    expect(versions).toHaveLength(TYPES.length + 1);
    for (const row of versions) {
      const type = [...ids].find(([, id]) => id === row.credential_id)![0];
      const secret = type === 'password' && row.version === 2 ? passwordV2 : sent[type];
      const plaintextBytes = Buffer.byteLength(JSON.stringify(secret));
      expect(Buffer.isBuffer(row.ciphertext)).toBe(true);
      // GCM is a stream mode: the ciphertext is as long as the plaintext, with no room for more.
      expect(row.ciphertext!.length).toBeGreaterThanOrEqual(plaintextBytes);
      expect(row.ciphertext!.length).toBeLessThanOrEqual(plaintextBytes + 64);
      expect(Buffer.from(row.iv!, 'base64')).toHaveLength(12);
      expect(Buffer.from(row.tag!, 'base64')).toHaveLength(16);
      expect(Buffer.from(row.wrapped_dek!, 'base64')).toHaveLength(12 + 16 + 32);
      expect(row.kek_id).toBe('k1');
    }
    const ivs = versions.map((row) => row.iv);
    expect(new Set(ivs).size).toBe(ivs.length);
  });

  it('should fingerprint the secrets with a keyed HMAC, not a plain hash', () => {
    const versions = dump.credential_versions as unknown as VersionRow[];
    for (const row of versions) {
      const type = [...ids].find(([, id]) => id === row.credential_id)![0];
      const secret = type === 'password' && row.version === 2 ? passwordV2 : sent[type];
      const field = String(secret[FINGERPRINTED_FIELD[type]]);
      expect(row.fingerprint).toMatch(/^[0-9a-f]{64}$/);
      expect(row.fingerprint).not.toBe(createHash('sha256').update(field).digest('hex'));
      expect(row.fingerprint).not.toBe(
        createHash('sha256').update(JSON.stringify(secret)).digest('hex'),
      );
    }
    const fingerprints = versions.map((row) => row.fingerprint);
    expect(new Set(fingerprints).size).toBe(fingerprints.length);
  });

  it('should keep every secret out of the process logs, at the most verbose level', () => {
    const logs = app.output();
    expect(logs).toContain(ids.get('password')); // the logs did record the requests
    expect(leaksIn(logs, canaries.of('body'))).toEqual([]);
  });

  it('should keep a secret sent in a query string out of the process logs', () => {
    expect(leaksIn(app.output(), canaries.of('query'))).toEqual([]);
  });

  it('should keep every canary out of the audit file sink', () => {
    const sink = readFileSync(join(dataDir, 'audit.ndjson'), 'utf8');
    const actions = sink
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { action?: string; event?: { action?: string } })
      .map((event) => event.action ?? event.event?.action);
    expect(actions).toEqual(expect.arrayContaining(['credential.create', 'credential.reveal']));
    expect(leaksIn(sink, canaries.all)).toEqual([]);
  });

  /** The canaries of `via` in the responses other than reveals, as "<label> in <request>". */
  const leaksInResponses = (via: Canary['via']) =>
    exchanges
      .filter((exchange) => !exchange.reveal)
      .flatMap((exchange) =>
        leaksIn(`${exchange.headers}\n${exchange.body}`, canaries.of(via)).map(
          (label) => `${label} in the answer to ${exchange.request.split('?')[0]}`,
        ),
      );

  it('should keep every secret out of every response but the reveals', () => {
    expect(exchanges.filter((exchange) => !exchange.reveal).length).toBeGreaterThan(30);
    expect(leaksInResponses('body')).toEqual([]);
  });

  it('should not echo a secret sent in a query string in any response', () => {
    expect(leaksInResponses('query')).toEqual([]);
  });
});

describe('Envelope integrity, fail-closed reveals and a wrong master key (MariaDB)', () => {
  const keys = { k1: randomMasterKey(), k2: randomMasterKey() };
  const canaries = new Canaries();
  let database: ScratchDatabase;
  let db: DataSource;
  let sut: TestApp | undefined;
  let admin: Record<string, string>;
  let counter = 0;
  /** Credential ids by name; each is tampered with by one test only. */
  const ids: Record<string, string> = {};

  const start = (masterKeys: string) =>
    startApp(database, {
      env: {
        CUSTOS_MASTER_KEY: undefined,
        CUSTOS_MASTER_KEYS: masterKeys,
        CUSTOS_MASTER_KEY_ID: 'k1',
        AUDIT_SINKS: 'none',
      },
    });
  const rightKeys = () => `k1:${keys.k1},k2:${keys.k2}`;

  async function create(name: string, versions = 1): Promise<string> {
    const response = await sut!.http
      .post(`${API}/credentials`)
      .set(admin)
      .send({
        path: `tamper/${name}`,
        name,
        type: 'password',
        secret: { password: canaries.make(`${name}-v1`) },
      })
      .expect(201);
    const id = response.body.id as string;
    for (let version = 2; version <= versions; version++) {
      await sut!.http
        .put(`${API}/credentials/${id}/secret`)
        .set(admin)
        .send({ secret: { password: canaries.make(`${name}-v${version}`) } })
        .expect(200);
    }
    ids[name] = id;
    return id;
  }

  const reveal = (id: string, version?: number) => {
    const requestId = `at-rest-${++counter}`;
    return sut!.http
      .post(`${API}/credentials/${id}/reveal`)
      .set(admin)
      .set('x-request-id', requestId)
      .send(version ? { version } : {})
      .then((response) => ({ response, requestId }));
  };

  interface Envelope {
    ciphertext: Buffer;
    iv: string;
    tag: string;
    wrapped_dek: string;
    kek_id: string;
  }

  const envelope = async (id: string, version: number): Promise<Envelope> => {
    const [row] = await db.query<Envelope[]>(
      'SELECT ciphertext, iv, tag, wrapped_dek, kek_id FROM credential_versions WHERE credential_id = ? AND version = ?',
      [id, version],
    );
    return row;
  };

  const overwrite = (id: string, version: number, columns: Partial<Envelope>) =>
    db.query(
      `UPDATE credential_versions SET ${Object.keys(columns)
        .map((column) => `${column} = ?`)
        .join(', ')} WHERE credential_id = ? AND version = ?`,
      [...Object.values(columns), id, version],
    );

  const flipBit = (bytes: Buffer, index: number): Buffer => {
    const copy = Buffer.from(bytes);
    copy[index] ^= 0x01;
    return copy;
  };

  const revealEvents = (id: string) =>
    db.query<{ outcome: string; http_status: number; request_id: string }[]>(
      "SELECT outcome, http_status, request_id FROM audit_events WHERE action = 'credential.reveal' AND resource_id = ? ORDER BY seq",
      [id],
    );

  /**
   * The reveal fails with `status`, a generic message and no secret of any credential, and the
   * audit log shows an error for it, never a success.
   */
  async function expectRefusedReveal(id: string, version?: number, status = 500): Promise<void> {
    const successesBefore = (await revealEvents(id)).filter((e) => e.outcome === 'success');
    const { response, requestId } = await reveal(id, version);
    expect(response.status).toBe(status);
    if (status === 500) expect(response.body.message).toBe('Internal server error');
    expect(response.body).not.toHaveProperty('secret');
    expect(leaksIn(response.text, canaries.all)).toEqual([]);
    const events = await revealEvents(id);
    expect(events.filter((e) => e.outcome === 'success')).toEqual(successesBefore);
    expect(events.filter((e) => e.request_id === requestId)).toEqual([
      { outcome: 'error', http_status: status, request_id: requestId },
    ]);
  }

  async function expectRevealed(id: string, version?: number): Promise<void> {
    const { response } = await reveal(id, version);
    expect(response.status).toBe(200);
    const name = Object.keys(ids).find((key) => ids[key] === id)!;
    const expected = canaries.all.find(
      (c) => c.label === `${name}-v${version ?? response.body.version}`,
    );
    expect(response.body.secret).toEqual({ password: expected!.value });
  }

  beforeAll(async () => {
    database = await scratchMariadb();
    sut = await start(rightKeys());
    db = await openDirect(database);
    admin = { authorization: await bearerFor(sut, 'admin') };
    // A second key the instance holds and the keyring knows (retired), as after a rotation.
    await db.query("INSERT INTO keyring (id, status, check_value) VALUES ('k2', 'retired', ?)", [
      computeCheckValue(Buffer.from(keys.k2, 'base64')),
    ]);
    await create('value-from-version-1', 2);
    await create('envelope-from-version-1', 2);
    await create('key-source');
    await create('key-target');
    await create('envelope-target');
    await create('ciphertext-bit');
    await create('tag-bit');
    await create('iv-bit');
    await create('other-key');
    await create('unknown-key');
    await create('untouched', 2);
    await create('fail-closed');
  });

  afterAll(async () => {
    await sut?.close();
    await db?.destroy();
    await database?.drop();
  });

  describe('a changed or moved envelope', () => {
    it('should refuse version 2 holding the value, nonce and tag of version 1', async () => {
      const id = ids['value-from-version-1'];
      const { ciphertext, iv, tag } = await envelope(id, 1);
      await overwrite(id, 2, { ciphertext, iv, tag });
      await expectRefusedReveal(id, 2);
      await expectRevealed(id, 1);
    });

    it('should refuse version 2 holding the whole envelope of version 1, its data key included', async () => {
      const id = ids['envelope-from-version-1'];
      const { ciphertext, iv, tag, wrapped_dek } = await envelope(id, 1);
      await overwrite(id, 2, { ciphertext, iv, tag, wrapped_dek });
      await expectRefusedReveal(id, 2);
      await expectRevealed(id, 1);
    });

    it('should refuse a credential holding the wrapped data key of another', async () => {
      const { wrapped_dek } = await envelope(ids['key-source'], 1);
      await overwrite(ids['key-target'], 1, { wrapped_dek });
      await expectRefusedReveal(ids['key-target']);
      await expectRevealed(ids['key-source']);
    });

    it('should refuse a credential holding the whole envelope of another', async () => {
      const { ciphertext, iv, tag, wrapped_dek } = await envelope(ids['key-source'], 1);
      await overwrite(ids['envelope-target'], 1, { ciphertext, iv, tag, wrapped_dek });
      await expectRefusedReveal(ids['envelope-target']);
      await expectRevealed(ids['key-source']);
    });

    it('should refuse a ciphertext with one bit flipped', async () => {
      const id = ids['ciphertext-bit'];
      const { ciphertext } = await envelope(id, 1);
      await overwrite(id, 1, { ciphertext: flipBit(ciphertext, ciphertext.length >> 1) });
      await expectRefusedReveal(id);
    });

    it('should refuse a tag with one bit flipped', async () => {
      const id = ids['tag-bit'];
      const { tag } = await envelope(id, 1);
      await overwrite(id, 1, { tag: flipBit(Buffer.from(tag, 'base64'), 0).toString('base64') });
      await expectRefusedReveal(id);
    });

    it('should refuse a nonce with one bit flipped', async () => {
      const id = ids['iv-bit'];
      const { iv } = await envelope(id, 1);
      await overwrite(id, 1, { iv: flipBit(Buffer.from(iv, 'base64'), 11).toString('base64') });
      await expectRefusedReveal(id);
    });

    it('should refuse a version relabelled with another master key of the keyring', async () => {
      const id = ids['other-key'];
      await overwrite(id, 1, { kek_id: 'k2' });
      await expectRefusedReveal(id);
    });

    it('should answer 503 for a version under a master key this instance does not hold', async () => {
      const id = ids['unknown-key'];
      await overwrite(id, 1, { kek_id: 'k9' });
      await expectRefusedReveal(id, undefined, 503);
    });

    it('should still reveal every version that was not touched', async () => {
      await expectRevealed(ids['untouched'], 1);
      await expectRevealed(ids['untouched'], 2);
      await expectRevealed(ids['key-source']);
      await expectRevealed(ids['fail-closed']);
    });
  });

  describe('a reveal whose audit event cannot be written', () => {
    const blockRevealEvents = () =>
      db.query(
        "CREATE TRIGGER audit_events_block_reveal BEFORE INSERT ON audit_events FOR EACH ROW IF NEW.action = 'credential.reveal' THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'audit storage unavailable'; END IF",
      );
    const unblock = () => db.query('DROP TRIGGER IF EXISTS audit_events_block_reveal');

    afterEach(unblock);

    it('should answer 500 without the secret, by id and by path, and reveal again once audit works', async () => {
      const id = ids['fail-closed'];
      const before = await revealEvents(id);
      await blockRevealEvents();
      const byId = await sut!.http.post(`${API}/credentials/${id}/reveal`).set(admin).send({});
      const byPath = await sut!.http.get(`${API}/secrets/tamper/fail-closed`).set(admin);
      for (const response of [byId, byPath]) {
        expect(response.status).toBe(500);
        expect(response.body.message).toBe('Internal server error');
        expect(response.text).not.toMatch(/audit storage|SQL|SIGNAL/);
        expect(leaksIn(response.text, canaries.all)).toEqual([]);
      }
      expect(await revealEvents(id)).toEqual(before);

      await unblock();
      await expectRevealed(id);
      const after = await revealEvents(id);
      expect(after).toHaveLength(before.length + 1);
      expect(after.at(-1)!.outcome).toBe('success');
    });
  });

  describe('a wrong master key', () => {
    const TABLES_CHECKED = [
      'credentials',
      'credential_versions',
      'credential_fingerprints',
      'credential_tags',
      'keyring',
      'audit_events',
      'outbox',
    ];
    const snapshot = async () => {
      const checksums = await db.query<{ Table: string; Checksum: string }[]>(
        `CHECKSUM TABLE ${TABLES_CHECKED.join(', ')}`,
      );
      const counts = await Promise.all(
        TABLES_CHECKED.map(async (table) => {
          const [{ n }] = await db.query<{ n: string }[]>(`SELECT COUNT(*) AS n FROM ${table}`);
          return `${table}:${n}`;
        }),
      );
      return {
        checksums: checksums.map((row) => `${row.Table.split('.').pop()}:${row.Checksum}`),
        counts,
      };
    };

    it('should answer every credentials route 503 and change nothing in the database', async () => {
      await sut!.close();
      sut = undefined;
      const before = await snapshot();
      const wrong = await startApp(database, {
        env: { CUSTOS_MASTER_KEY: randomMasterKey(), AUDIT_SINKS: 'none' },
      });
      try {
        const id = ids['untouched'];
        const secret = { password: canaries.make('sealed-write') };
        const routes = [
          wrong.http.get(`${API}/credentials`),
          wrong.http.get(`${API}/credentials/${id}`),
          wrong.http.get(`${API}/credentials/${id}/versions`),
          wrong.http.post(`${API}/credentials/${id}/reveal`).send({}),
          wrong.http.get(`${API}/secrets/tamper/untouched`),
          wrong.http
            .post(`${API}/credentials`)
            .send({ path: 'tamper/sealed', name: 'x', type: 'password', secret }),
          wrong.http
            .patch(`${API}/credentials/${id}`)
            .send({ description: 'changed while sealed' }),
          wrong.http.put(`${API}/credentials/${id}/secret`).send({ secret }),
          wrong.http.delete(`${API}/credentials/${id}`),
          wrong.http.post(`${API}/credentials/${id}/restore`),
          wrong.http.post(`${API}/credentials/${id}/destroy`),
        ];
        for (const route of routes) {
          const response = await route.set(admin);
          expect(response.status).toBe(503);
          expect(response.body.message).toMatch(/^Custos is sealed: /);
          expect(leaksIn(response.text, canaries.all)).toEqual([]);
        }
      } finally {
        await wrong.close();
      }
      expect(await snapshot()).toEqual(before);
    });

    it('should reveal the same secrets once restarted with the right key', async () => {
      sut = await start(rightKeys());
      admin = { authorization: await bearerFor(sut, 'admin') };
      await expectRevealed(ids['untouched']);
    });
  });
});
