import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createScratchMariadb } from '../src/database/cli/scratch-database';

const DURATION_S = Number(process.env.BENCH_DURATION ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const PORT = 3991;
const BASE = `http://127.0.0.1:${PORT}/api/v1`;

async function call<T>(
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: unknown,
): Promise<T> {
  const response = await fetch(`${BASE}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok)
    throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return (response.status === 204 ? {} : await response.json()) as T;
}

/** Logs in the bootstrap admin, changing its first password; returns its Authorization header. */
async function adminHeaders(dataDir: string): Promise<Record<string, string>> {
  const email = 'admin@localhost';
  const first = readFileSync(join(dataDir, 'initial-admin-password'), 'utf8').trim();
  const password = `Bench-${randomBytes(12).toString('base64url')}`;
  const login = (p: string) =>
    call<{ accessToken: string }>('POST', '/auth/login', {}, { email, password: p });
  const initial = { authorization: `Bearer ${(await login(first)).accessToken}` };
  await call('POST', '/auth/password', initial, { currentPassword: first, newPassword: password });
  return { authorization: `Bearer ${(await login(password)).accessToken}` };
}

/**
 * The service read path over HTTP against real MariaDB: `GET /secrets/<path>` with an API key
 * (key lookup, grant check, unwrap and decrypt, audit event in the same transaction), beside
 * `GET /credentials/:id` (the same without decryption, audited after the handler).
 */
export async function benchReveal(): Promise<Record<string, number>> {
  const results: Record<string, number> = {};
  const dataDir = mkdtempSync(join(tmpdir(), 'custos-bench-reveal-'));
  const database = await createScratchMariadb();
  const server = spawn(process.execPath, [join(__dirname, 'bench-server.js')], {
    env: {
      ...process.env,
      PORT: String(PORT),
      DATABASE_URL: database.url,
      CUSTOS_MASTER_KEY: randomBytes(32).toString('base64'),
      AUDIT_SINKS: 'none',
      CUSTOS_DATA_DIR: dataDir,
      LOG_LEVEL: 'error',
      THROTTLE_LIMIT: '100000000',
      DB_POOL_SIZE: String(CONNECTIONS),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    await once(server.stdout, 'data');
    const admin = await adminHeaders(dataDir);
    const credential = await call<{ id: string }>('POST', '/credentials', admin, {
      path: 'bench/prod/db',
      name: 'bench',
      type: 'password',
      secret: { password: randomBytes(24).toString('base64url') },
    });
    const account = await call<{ id: string }>('POST', '/service-accounts', admin, {
      name: 'bench',
    });
    const { apiKey } = await call<{ apiKey: string }>(
      'POST',
      `/service-accounts/${account.id}/keys`,
      admin,
      {},
    );
    await call('POST', '/grants', admin, {
      principalType: 'service_account',
      principalId: account.id,
      pathPattern: 'bench/**',
      capabilities: ['read', 'reveal'],
    });
    for (const [label, path] of [
      ['GET /secrets/<path> (reveal)', '/secrets/bench/prod/db'],
      ['GET /credentials/:id (metadata)', `/credentials/${credential.id}`],
    ]) {
      const options = {
        url: `${BASE}${path}`,
        headers: { 'x-api-key': apiKey },
        connections: CONNECTIONS,
      };
      await autocannon({ ...options, duration: 2 }); // warm-up
      const result = await autocannon({ ...options, duration: DURATION_S });
      if (result.non2xx > 0 || result.errors > 0)
        throw new Error(`${label}: ${result.non2xx} non-2xx, ${result.errors} errors`);
      results[`req/s, ${label}`] = Math.round(result.requests.average);
      results[`p99 latency ms, ${label}`] = result.latency.p99;
    }
  } finally {
    server.kill('SIGTERM');
    await once(server, 'exit');
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  return results;
}
