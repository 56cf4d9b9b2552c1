import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScratchDatabase } from '../../src/database/cli/scratch-database';
import { ensureBuilt, freePort, spawnApp, SpawnedApp, waitForHttp } from '../helpers/spawned-app';
import { randomMasterKey, scratchMariadb } from '../helpers/test-app';
import { encodedForms } from '../helpers/encoded-forms';

export const API = '/api/v1';

/** The names an attacker points at forbidden addresses (helpers/attack-dns.js). */
const ATTACK_DNS = `--require ${join(__dirname, 'helpers', 'attack-dns.js')}`;

/** One HTTP exchange with the app under attack, kept for the checks at the end of the file. */
export interface Exchange {
  request: string;
  status: number;
  headers: Record<string, string>;
  body: string;
  /** An authorised reveal: the one kind of response allowed to carry the canary. */
  reveal: boolean;
  /** A reveal of a tampered envelope, which must fail with 500. */
  failsClosed: boolean;
}

export interface Reply {
  status: number;
  headers: Record<string, string>;
  // Answers are JSON of many shapes; the cases read what they check.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  text: string;
}

export interface CallOptions {
  /** Headers of the caller (authorization or x-api-key), and any others. */
  as?: Record<string, string>;
  headers?: Record<string, string>;
  body?: unknown;
  /** A body sent as it is, e.g. JSON no serializer would write. */
  raw?: string | Buffer;
  reveal?: boolean;
  failsClosed?: boolean;
}

export function contains(haystack: string, canary: string): boolean {
  return encodedForms(canary).some((form) => haystack.includes(form));
}

/**
 * The real app as `npm start` runs it (its pino logs on stdout, captured at the most verbose
 * level), on its own scratch MariaDB, with an audit file sink; every exchange is recorded.
 */
export class AttackTarget {
  readonly exchanges: Exchange[] = [];
  readonly jwtSecret = randomBytes(48).toString('base64');
  database!: ScratchDatabase;
  dataDir!: string;
  app!: SpawnedApp;
  admin: Record<string, string> = {};
  /** Every API key, access token and refresh token handed out: none may be logged or stored. */
  readonly tokens: string[] = [];
  readonly masterKey = randomMasterKey();
  /** The instance that delivers webhooks (see startCourier), once started. */
  courier?: SpawnedApp;

  async start(env: Record<string, string> = {}): Promise<void> {
    ensureBuilt();
    this.database = await scratchMariadb();
    this.dataDir = mkdtempSync(join(tmpdir(), 'custos-attack-'));
    this.app = spawnApp(
      {
        DATABASE_URL: this.database.url!,
        CUSTOS_DATA_DIR: this.dataDir,
        CUSTOS_MASTER_KEY: this.masterKey,
        JWT_SECRET: this.jwtSecret,
        NODE_OPTIONS: ATTACK_DNS,
        AUDIT_SINKS: 'file',
        AUDIT_RELAY_INTERVAL_MS: '100',
        LOG_LEVEL: 'trace',
        THROTTLE_LIMIT: '100000',
        // The suite signs in a dozen principals; auth.e2e proves the per-IP login throttle.
        LOGIN_THROTTLE_LIMIT: '100000',
        // Its subscription names a public address: nothing may dial out from a test.
        WEBHOOKS_DISPATCHER_ENABLED: 'false',
        ...env,
      },
      await freePort(),
    );
    await waitForHttp(this.app, `${API}/health/live`);
    for (let i = 0; i < 100; i++) {
      if ((await fetch(`${this.app.baseUrl}${API}/health/ready`)).status === 200) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    this.admin = await this.signInAsBootstrapAdmin();
  }

  /**
   * A second instance on the same database that serves no attack and only delivers webhooks,
   * to the receiver on this machine: it alone allows loopback (the attacked instance keeps the
   * default guard, which the SSRF cases attack), and only to the hosts in `hosts`, so nothing
   * dials out from a test.
   */
  async startCourier(caFile: string, hosts: string[]): Promise<SpawnedApp> {
    this.courier = spawnApp(
      {
        DATABASE_URL: this.database.url!,
        CUSTOS_DATA_DIR: mkdtempSync(join(this.dataDir, 'courier-')),
        CUSTOS_MASTER_KEY: this.masterKey,
        JWT_SECRET: this.jwtSecret,
        NODE_OPTIONS: ATTACK_DNS,
        AUDIT_SINKS: 'none',
        LOG_LEVEL: 'trace',
        CUSTOS_OUTBOUND_ALLOW_LOOPBACK: 'true',
        CUSTOS_OUTBOUND_HOSTS: hosts.join(','),
        CUSTOS_OUTBOUND_CA_FILE: caFile,
        WEBHOOKS_DISPATCH_INTERVAL_MS: '200',
        ROTATION_SCHEDULER_ENABLED: 'false',
      },
      await freePort(),
    );
    await waitForHttp(this.courier, `${API}/health/live`);
    return this.courier;
  }

  async stop(): Promise<void> {
    await this.courier?.stop();
    await this.app?.stop();
    await this.database?.drop();
    if (this.dataDir) rmSync(this.dataDir, { recursive: true, force: true });
  }

  async call(method: string, path: string, options: CallOptions = {}): Promise<Reply> {
    const headers: Record<string, string> = { ...options.as, ...options.headers };
    let body: string | Buffer | undefined;
    if (options.raw !== undefined) body = options.raw;
    else if (options.body !== undefined) body = JSON.stringify(options.body);
    if (body !== undefined) headers['content-type'] ??= 'application/json';
    const url = /^\/(v1|api)\/|^\/metrics/.test(path) ? path : `${API}${path}`;
    const response = await fetch(`${this.app.baseUrl}${url}`, { method, headers, body });
    const text = await response.text();
    const replyHeaders = Object.fromEntries(response.headers.entries());
    this.exchanges.push({
      request: `${method} ${url}`,
      status: response.status,
      headers: replyHeaders,
      body: text,
      reveal: options.reveal ?? false,
      failsClosed: options.failsClosed ?? false,
    });
    let parsed: unknown = undefined;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: the text is kept
    }
    return { status: response.status, headers: replyHeaders, body: parsed, text };
  }

  /** The call, which must answer `status`; its reply. */
  async expect(status: number, method: string, path: string, options: CallOptions = {}) {
    const reply = await this.call(method, path, options);
    if (reply.status !== status)
      throw new Error(`${method} ${path}: expected ${status}, got ${reply.status}: ${reply.text}`);
    return reply;
  }

  private async signInAsBootstrapAdmin(): Promise<Record<string, string>> {
    const initial = readFileSync(join(this.dataDir, 'initial-admin-password'), 'utf8').trim();
    const first = await this.expect(200, 'POST', '/auth/login', {
      body: { email: 'admin@localhost', password: initial },
    });
    const newPassword = `Attack-${randomBytes(12).toString('base64url')}`;
    await this.expect(204, 'POST', '/auth/password', {
      as: { authorization: `Bearer ${first.body.accessToken}` },
      body: { currentPassword: initial, newPassword },
    });
    const login = await this.expect(200, 'POST', '/auth/login', {
      body: { email: 'admin@localhost', password: newPassword },
    });
    this.tokens.push(String(login.body.accessToken), String(login.body.refreshToken));
    return { authorization: `Bearer ${login.body.accessToken}` };
  }

  /** A user of `role` made over HTTP by the admin and signed in. */
  async user(role: 'admin' | 'operator' | 'auditor' | 'viewer') {
    const email = `${role}-${randomBytes(4).toString('hex')}@example.test`;
    const password = `Tq8!${randomBytes(12).toString('base64url')}`;
    const created = await this.expect(201, 'POST', '/users', {
      as: this.admin,
      body: { email, password, role },
    });
    const login = await this.expect(200, 'POST', '/auth/login', { body: { email, password } });
    this.tokens.push(String(login.body.accessToken), String(login.body.refreshToken));
    return {
      id: String(created.body.id),
      email,
      password,
      tokens: login.body as { accessToken: string; refreshToken: string },
      headers: { authorization: `Bearer ${login.body.accessToken}` },
    };
  }

  /** A service account with one API key and the given grants, made over HTTP by the admin. */
  async service(grants: { pathPattern: string; capabilities: string[] }[]) {
    const name = `svc-${randomBytes(4).toString('hex')}`;
    const account = await this.expect(201, 'POST', '/service-accounts', {
      as: this.admin,
      body: { name },
    });
    const id = String(account.body.id);
    const key = await this.expect(201, 'POST', `/service-accounts/${id}/keys`, {
      as: this.admin,
      body: {},
    });
    this.tokens.push(String(key.body.apiKey));
    const grantIds: string[] = [];
    for (const grant of grants) {
      const made = await this.expect(201, 'POST', '/grants', {
        as: this.admin,
        body: { principalType: 'service_account', principalId: id, ...grant },
      });
      grantIds.push(String(made.body.id));
    }
    return {
      id,
      keyId: String(key.body.id),
      grantIds,
      headers: { 'x-api-key': String(key.body.apiKey) },
    };
  }

  /** Every committed audit event has reached the file sink and the outbox is empty. */
  async outboxDrained(): Promise<void> {
    let previous = '';
    for (let i = 0; i < 100; i++) {
      const now = this.mysql(
        'SELECT (SELECT COUNT(*) FROM audit_events), (SELECT COUNT(*) FROM outbox)',
      );
      if (now.split('\t')[1]?.trim() === '0' && now === previous) return;
      previous = now;
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    throw new Error('the outbox relay did not drain');
  }

  /** A query on the scratch database with the mariadb client; tab-separated rows. */
  mysql(sql: string): string {
    return execFileSync('mariadb', [...this.connectionArgs(), '-N', '-B', '-e', sql], {
      encoding: 'utf8',
    });
  }

  /** `mariadb-dump` of the scratch database, binary columns in hex. */
  dump(): string {
    return execFileSync('mariadb-dump', [...this.connectionArgs(), '--hex-blob'], {
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
    });
  }

  sink(): string {
    return readFileSync(join(this.dataDir, 'audit.ndjson'), 'utf8');
  }

  private connectionArgs(): string[] {
    const url = new URL(this.database.url!);
    const args = [`--host=${url.hostname}`, `--port=${url.port || '3306'}`];
    args.push(`--user=${decodeURIComponent(url.username || 'root')}`);
    if (url.password) args.push(`--password=${decodeURIComponent(url.password)}`);
    return [...args, url.pathname.slice(1)];
  }
}
