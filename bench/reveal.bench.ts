import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createScratchMariadb } from '../src/database/cli/scratch-database';
import { measure, startBenchServer } from './bench-load';

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
  const server = await startBenchServer(PORT, {
    DATABASE_URL: database.url,
    AUDIT_SINKS: 'none',
    CUSTOS_DATA_DIR: dataDir,
  });
  try {
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
      Object.assign(
        results,
        await measure(label, { url: `${BASE}${path}`, headers: { 'x-api-key': apiKey } }),
      );
    }
  } finally {
    await server.stop();
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  return results;
}
