import { createHmac, createHash, timingSafeEqual } from 'node:crypto';
import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import * as mysql from 'mysql2';
import { pathPatternsSql } from '../src/auth/grants/path-pattern-sql';
import { matchesPath } from '../src/auth/grants/path-pattern';
import { decryptSecret } from '../src/crypto/envelope';
import { derivePurposeKey } from '../src/crypto/purpose-keys';

/**
 * The floor: plain node:http and mysql2 (callback API, default pool options) doing the database
 * work of Custos's service reads, and nothing else. Custos's figures are quoted as a ratio of
 * this one's, measured in the same run on the same database, so the noise of a shared machine
 * cancels out. Events go to a table of its own shaped like audit_events (same indexes, no chain),
 * so Custos's chains stay intact.
 */
const masterKey = Buffer.from(process.env.CUSTOS_MASTER_KEY!, 'base64');
const auditKey = derivePurposeKey(masterKey, 'audit-chain');
const pool = mysql.createPool({
  uri: process.env.DATABASE_URL,
  connectionLimit: Number(process.env.DB_POOL_SIZE ?? 50),
  timezone: 'Z',
});
let laneSeq = 0;

function query<T>(sql: string, values: unknown[]): Promise<T[]> {
  return new Promise((resolve, reject) =>
    pool.query(sql, values, (error, rows) => (error ? reject(error) : resolve(rows as T[]))),
  );
}

interface Service {
  id: string;
  name: string;
}

interface KeyRow {
  secret_hash: string;
  service_account_id: string;
  revoked_at: Date | null;
  expires_at: Date | null;
  name: string;
  status: string;
}

/** API key lookup with its account, SHA-256 and a constant-time compare. */
async function authenticate(request: IncomingMessage): Promise<Service | null> {
  const match = /^cus_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/.exec(
    String(request.headers['x-api-key']),
  );
  if (!match) return null;
  const [key] = await query<KeyRow>(
    'SELECT k.secret_hash, k.service_account_id, k.revoked_at, k.expires_at, a.name, a.status ' +
      'FROM api_keys k JOIN service_accounts a ON a.id = k.service_account_id WHERE k.id = ?',
    [match[1]],
  );
  if (!key) return null;
  const actual = createHash('sha256').update(match[2]).digest();
  const expected = Buffer.from(key.secret_hash, 'hex');
  const valid =
    actual.length === expected.length &&
    timingSafeEqual(actual, expected) &&
    key.revoked_at === null &&
    (key.expires_at === null || key.expires_at.getTime() > Date.now()) &&
    key.status === 'active';
  return valid ? { id: key.service_account_id, name: key.name } : null;
}

function grants(service: Service): Promise<{ path_pattern: string; capabilities: string }[]> {
  return query(
    "SELECT path_pattern, capabilities FROM access_grants WHERE principal_type = 'service_account' AND principal_id = ?",
    [service.id],
  );
}

/** One event, hashed under the audit key, inserted and committed (autocommit) before answering. */
async function audit(
  service: Service,
  request: IncomingMessage,
  action: string,
  resourceId: string | null,
  details: Record<string, unknown>,
): Promise<void> {
  const json = JSON.stringify(details);
  const seq = ++laneSeq;
  const hash = createHmac('sha256', auditKey)
    .update(`${seq}|${action}|${service.id}|${resourceId}|${json}`)
    .digest('hex');
  await query(
    'INSERT INTO floor_audit_events (lane, lane_seq, occurred_at, actor_type, actor_id, actor_display, ip, ' +
      'user_agent, request_id, action, resource_type, resource_id, outcome, http_status, details, key_id, ' +
      'prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    [
      0,
      seq,
      new Date(),
      'service',
      service.id,
      service.name,
      request.socket.remoteAddress ?? null,
      request.headers['user-agent'] ?? null,
      String(seq),
      action,
      'credential',
      resourceId,
      'success',
      200,
      json,
      'floor',
      null,
      hash,
    ],
  );
}

interface SecretRow {
  id: string;
  path: string;
  type: string;
  status: string;
  current_version: number;
  state: string;
  ciphertext: Buffer;
  iv: string;
  tag: string;
  wrapped_dek: string;
  kek_id: string;
}

async function reveal(request: IncomingMessage, path: string): Promise<[number, unknown]> {
  const service = await authenticate(request);
  if (!service) return [401, { message: 'Invalid API key' }];
  const rules = await grants(service);
  const [row] = await query<SecretRow>(
    'SELECT c.id, c.path, c.type, c.status, c.current_version, v.state, v.ciphertext, v.iv, v.tag, ' +
      'v.wrapped_dek, v.kek_id FROM credentials c JOIN credential_versions v ' +
      'ON v.credential_id = c.id AND v.version = c.current_version WHERE c.path = ?',
    [path],
  );
  const allowed = (capability: string) =>
    rules.some(
      (rule) =>
        rule.capabilities.split(',').includes(capability) && matchesPath(rule.path_pattern, path),
    );
  if (!row || row.status !== 'active' || !allowed('read')) return [404, { message: 'Not found' }];
  if (!allowed('reveal')) return [403, { message: 'Not allowed' }];
  const plaintext = decryptSecret(
    { id: row.kek_id, key: masterKey },
    {
      ciphertext: row.ciphertext,
      iv: Buffer.from(row.iv, 'base64'),
      tag: Buffer.from(row.tag, 'base64'),
      wrappedDek: Buffer.from(row.wrapped_dek, 'base64'),
      kekId: row.kek_id,
    },
    { credentialId: row.id, version: row.current_version },
  );
  const secret = JSON.parse(plaintext.toString('utf8')) as Record<string, unknown>;
  plaintext.fill(0);
  const version = row.current_version;
  await audit(service, request, 'credential.reveal', row.id, { path, version, state: row.state });
  return [200, { id: row.id, path: row.path, type: row.type, version, state: row.state, secret }];
}

const LIST_COLUMNS =
  'c.id, c.path, c.name, c.type, c.description, c.username, c.url, c.host, c.port, c.owner, c.tags, ' +
  'c.metadata, c.secret_info, c.expires_at, c.status, c.current_version, c.created_by, c.created_at, ' +
  'c.updated_at, c.deleted_at';

interface ListRow {
  id: string;
  path: string;
  name: string;
  type: string;
  description: string | null;
  username: string | null;
  url: string | null;
  host: string | null;
  port: number | null;
  owner: string | null;
  tags: string;
  metadata: string | null;
  secret_info: string | null;
  expires_at: Date | null;
  status: string;
  current_version: number;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
  deleted_at: Date | null;
}

async function list(request: IncomingMessage, limit: number): Promise<[number, unknown]> {
  const service = await authenticate(request);
  if (!service) return [401, { message: 'Invalid API key' }];
  const readable = (await grants(service))
    .filter((rule) => rule.capabilities.split(',').includes('read'))
    .map((rule) => rule.path_pattern);
  // The same filter Custos builds.
  const visible = pathPatternsSql('c.path', readable);
  const where = `c.status = 'active' AND ${visible.sql}`;
  const params = visible.parameters;
  const [{ total }] = await query<{ total: number }>(
    `SELECT COUNT(*) AS total FROM credentials c WHERE ${where}`,
    params,
  );
  const rows = await query<ListRow>(
    `SELECT ${LIST_COLUMNS} FROM credentials c WHERE ${where} ORDER BY c.path ASC LIMIT ?`,
    [...params, limit + 1],
  );
  const iso = (value: Date | null) => value?.toISOString() ?? null;
  const items = rows.slice(0, limit).map((c) => ({
    id: c.id,
    path: c.path,
    name: c.name,
    type: c.type,
    description: c.description,
    username: c.username,
    url: c.url,
    host: c.host,
    port: c.port,
    owner: c.owner,
    tags: c.tags ? c.tags.split(',') : [],
    metadata: c.metadata ? (JSON.parse(c.metadata) as unknown) : null,
    secretInfo: c.secret_info ? (JSON.parse(c.secret_info) as unknown) : null,
    expiresAt: iso(c.expires_at),
    status: c.status,
    currentVersion: c.current_version,
    createdBy: c.created_by,
    createdAt: iso(c.created_at),
    updatedAt: iso(c.updated_at),
    deletedAt: iso(c.deleted_at),
  }));
  const last = rows.length > limit ? rows[limit - 1].path : null;
  await audit(service, request, 'credential.list', null, { method: 'GET', route: '/credentials' });
  return [
    200,
    { items, nextCursor: last && Buffer.from(last).toString('base64url'), total: Number(total) },
  ];
}

function route(request: IncomingMessage): Promise<[number, unknown]> {
  const url = new URL(request.url ?? '/', 'http://floor');
  if (url.pathname.startsWith('/api/v1/secrets/')) {
    return reveal(request, decodeURIComponent(url.pathname.slice('/api/v1/secrets/'.length)));
  }
  if (url.pathname === '/api/v1/credentials') {
    return list(request, Math.min(Number(url.searchParams.get('limit') ?? 50), 100));
  }
  return Promise.resolve([404, { message: 'Not found' }]);
}

function answer(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  response.end(JSON.stringify(body));
}

async function main(): Promise<void> {
  await query('CREATE TABLE IF NOT EXISTS floor_audit_events LIKE audit_events', []);
  const server = createServer((request, response) => {
    route(request).then(
      ([status, body]) => answer(response, status, body),
      (error: unknown) => {
        process.stderr.write(`floor: ${String(error)}\n`);
        answer(response, 500, { message: 'Internal error' });
      },
    );
  });
  server.keepAliveTimeout = 60_000;
  server.listen(Number(process.env.PORT), '127.0.0.1', () => process.stdout.write('ready\n'));
  process.once('SIGTERM', () => server.close(() => pool.end(() => process.exit(0))));
}

void main();
