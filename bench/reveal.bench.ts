import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createScratchMariadb } from '../src/database/cli/scratch-database';
import { BenchServer, load, LoadResult, startBenchServer } from './bench-load';

const CUSTOS_PORT = 3991;
const FLOOR_PORT = 3992;
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 1);
/** Credentials besides the revealed one, so that a page of 50 is full and the count has work. */
const LISTED = 200;

async function call<T>(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: unknown,
): Promise<T> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok)
    throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return (response.status === 204 ? {} : await response.json()) as T;
}

const login = (base: string, email: string, password: string) =>
  call<{ accessToken: string }>(base, 'POST', '/auth/login', {}, { email, password });

/** Changes the bootstrap admin's first password to a random one; its e-mail and that password. */
export async function adminCredentials(
  base: string,
  dataDir: string,
): Promise<{ email: string; password: string }> {
  const email = 'admin@localhost';
  const first = readFileSync(join(dataDir, 'initial-admin-password'), 'utf8').trim();
  const password = `Bench-${randomBytes(12).toString('base64url')}`;
  const initial = { authorization: `Bearer ${(await login(base, email, first)).accessToken}` };
  await call(base, 'POST', '/auth/password', initial, {
    currentPassword: first,
    newPassword: password,
  });
  return { email, password };
}

/** Logs in the bootstrap admin, changing its first password; returns its Authorization header. */
async function adminHeaders(base: string, dataDir: string): Promise<Record<string, string>> {
  const { email, password } = await adminCredentials(base, dataDir);
  return { authorization: `Bearer ${(await login(base, email, password)).accessToken}` };
}

/** A service with `read` and `reveal` on bench/**, the revealed secret and a list to page. */
async function seed(base: string, dataDir: string): Promise<string> {
  const admin = await adminHeaders(base, dataDir);
  const secret = () => ({ password: randomBytes(24).toString('base64url') });
  await call(base, 'POST', '/credentials', admin, {
    path: 'bench/prod/db',
    name: 'bench',
    type: 'password',
    secret: secret(),
  });
  // One at a time: concurrent creates with tags deadlock on credential_tags (no retry yet).
  for (let i = 0; i < LISTED; i++) {
    await call(base, 'POST', '/credentials', admin, {
      path: `bench/list/item-${String(i).padStart(4, '0')}`,
      name: `item ${i}`,
      type: 'password',
      username: 'app',
      host: 'db.internal',
      port: 3306,
      tags: ['bench', 'list'],
      metadata: { team: 'bench', tier: i % 3 },
      secret: secret(),
    });
  }
  const account = await call<{ id: string }>(base, 'POST', '/service-accounts', admin, {
    name: 'bench',
  });
  const { apiKey } = await call<{ apiKey: string }>(
    base,
    'POST',
    `/service-accounts/${account.id}/keys`,
    admin,
    {},
  );
  await call(base, 'POST', '/grants', admin, {
    principalType: 'service_account',
    principalId: account.id,
    pathPattern: 'bench/**',
    capabilities: ['read', 'reveal'],
  });
  return apiKey;
}

const ROUTES = [
  ['reveal', 'GET /secrets/{path} (reveal)', '/api/v1/secrets/bench/prod/db'],
  ['list', 'GET /credentials?limit=50 (list)', '/api/v1/credentials?limit=50'],
].filter(([name]) => !process.env.BENCH_ROUTE || process.env.BENCH_ROUTE === name);

interface Row {
  route: string;
  round: number;
  floor: LoadResult;
  custos: LoadResult;
}

/**
 * The service read paths over HTTP against real MariaDB, Custos beside a floor (bench/
 * floor-server.ts: plain node:http + mysql2 doing the same database work) on the same database,
 * driven in turn by autocannon. Custos runs as in production (security headers, info-level
 * request logs to a file, throttling on, audit chain on); only its throttle limit is raised so
 * the load is not refused. The figures that mean something are the ratios.
 */
export async function benchReveal(): Promise<Record<string, number>> {
  const dataDir = mkdtempSync(join(tmpdir(), 'custos-bench-reveal-'));
  const database = await createScratchMariadb();
  const masterKey = randomBytes(32).toString('base64');
  const env = {
    DATABASE_URL: database.url,
    CUSTOS_MASTER_KEY: masterKey,
    CUSTOS_DATA_DIR: dataDir,
    DB_POOL_SIZE: String(CONNECTIONS),
  };
  const custos = await startBenchServer(
    CUSTOS_PORT,
    { ...env, AUDIT_SINKS: 'none', LOG_LEVEL: 'info' },
    {
      logFile: join(dataDir, 'custos.log'),
      readyUrl: `http://127.0.0.1:${CUSTOS_PORT}/api/v1/health/live`,
    },
  );
  let floor: BenchServer | undefined;
  const rows: Row[] = [];
  try {
    const apiKey = await seed(`http://127.0.0.1:${CUSTOS_PORT}/api/v1`, dataDir);
    floor = await startBenchServer(FLOOR_PORT, env, { script: 'floor-server.js' });
    const headers = { 'x-api-key': apiKey };
    for (const [, route, path] of ROUTES) {
      for (let round = 1; round <= ROUNDS; round++) {
        const on = (port: number, serverPid: number) =>
          load({
            url: `http://127.0.0.1:${port}${path}`,
            headers,
            connections: CONNECTIONS,
            serverPid,
          });
        const floorResult = await on(FLOOR_PORT, floor.pid);
        const custosResult = await on(CUSTOS_PORT, custos.pid);
        rows.push({ route, round, floor: floorResult, custos: custosResult });
      }
    }
  } finally {
    await floor?.stop();
    await custos.stop();
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  process.stdout.write(table(rows));
  const results: Record<string, number> = {};
  for (const { route, round, floor: f, custos: c } of rows) {
    const label = ROUNDS > 1 ? `${route} #${round}` : route;
    results[`req/s floor, ${label}`] = f.requestsPerSecond;
    results[`req/s custos, ${label}`] = c.requestsPerSecond;
    results[`throughput ratio, ${label}`] = ratio(c.requestsPerSecond, f.requestsPerSecond);
    results[`p99 ratio, ${label}`] = ratio(c.p99, f.p99);
    results[`non-2xx custos, ${label}`] = c.non2xx + c.errors;
  }
  return results;
}

function ratio(value: number, floor: number): number {
  return floor > 0 ? Math.round((value / floor) * 100) / 100 : 0;
}

function cpuRatio(value: number | undefined, floor: number | undefined): string {
  return value === undefined || floor === undefined ? '' : ratio(value, floor).toFixed(2);
}

function table(rows: Row[]): string {
  const header = [
    'route',
    'server',
    'req/s',
    'p50 ms',
    'p99 ms',
    'non-2xx',
    'CPU µs/req',
    'DB µs/req',
  ];
  const lines = [header];
  for (const { route, round, floor, custos } of rows) {
    const name = ROUNDS > 1 ? `${route} #${round}` : route;
    const line = (server: string, r: LoadResult) => [
      server,
      String(r.requestsPerSecond),
      String(r.p50),
      String(r.p99),
      String(r.non2xx + r.errors),
      String(r.serverCpuUs ?? '-'),
      String(r.databaseCpuUs ?? '-'),
    ];
    lines.push([name, ...line('floor', floor)]);
    lines.push(['', ...line('custos', custos)]);
    lines.push([
      '',
      'custos/floor',
      ratio(custos.requestsPerSecond, floor.requestsPerSecond).toFixed(2),
      ratio(custos.p50, floor.p50).toFixed(2),
      ratio(custos.p99, floor.p99).toFixed(2),
      '',
      cpuRatio(custos.serverCpuUs, floor.serverCpuUs),
      cpuRatio(custos.databaseCpuUs, floor.databaseCpuUs),
    ]);
  }
  const widths = header.map((_, i) => Math.max(...lines.map((l) => l[i].length)));
  return `\n${lines.map((l) => l.map((cell, i) => cell.padEnd(widths[i])).join('  ')).join('\n')}\n\n`;
}
