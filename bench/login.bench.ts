import { verify } from '@node-rs/argon2';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PasswordHasher } from '../src/auth/passwords/password-hasher';
import { createScratchMariadb } from '../src/database/cli/scratch-database';
import { DURATION_S, load, LoadResult, startBenchServer } from './bench-load';
import { adminCredentials } from './reveal.bench';

const PORT = 3993;
/** Logins in flight; more only queue for the 4 threads argon2 runs on. */
const CONNECTIONS = Number(process.env.BENCH_LOGIN_CONNECTIONS ?? 8);

/**
 * `POST /api/v1/auth/login` with a real user and the right password, which is bound by argon2id
 * by design (the hasher's parameters make each check cost ~20 ms of a core). The floor is a bare
 * @node-rs/argon2 verify loop, at the same concurrency, against a hash the app's own
 * PasswordHasher made (so with the app's parameters): the ratio is what Custos adds around the
 * check (lookup, lockout bookkeeping, tokens, session row, audit event).
 */
export async function benchLogin(): Promise<Record<string, number>> {
  const floor = await argon2Floor();
  const dataDir = mkdtempSync(join(tmpdir(), 'custos-bench-login-'));
  const database = await createScratchMariadb();
  const custos = await startBenchServer(
    PORT,
    {
      DATABASE_URL: database.url,
      CUSTOS_DATA_DIR: dataDir,
      AUDIT_SINKS: 'none',
      LOG_LEVEL: 'info',
      DB_POOL_SIZE: '10',
      LOGIN_THROTTLE_LIMIT: '100000000',
    },
    {
      logFile: join(dataDir, 'custos.log'),
      readyUrl: `http://127.0.0.1:${PORT}/api/v1/health/live`,
    },
  );
  let result: LoadResult;
  try {
    const user = await adminCredentials(`http://127.0.0.1:${PORT}/api/v1`, dataDir);
    result = await load({
      url: `http://127.0.0.1:${PORT}/api/v1/auth/login`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(user),
      connections: CONNECTIONS,
      serverPid: custos.pid,
    });
  } finally {
    await custos.stop();
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  if (result.non2xx + result.errors > 0)
    throw new Error(`login: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return {
    'login req/s custos': result.requestsPerSecond,
    'login p50 ms custos': result.p50,
    'login p99 ms custos': result.p99,
    'login CPU µs/req custos': result.serverCpuUs ?? 0,
    'login verifies/s floor': floor.perSecond,
    'login p50 ms floor': floor.p50,
    'login p99 ms floor': floor.p99,
    'login CPU µs/verify floor': floor.cpuUs,
  };
}

/** Verifies per second, p50/p99 (ms) and CPU per verify (µs) of a bare loop, after a warm-up. */
async function argon2Floor(): Promise<{
  perSecond: number;
  p50: number;
  p99: number;
  cpuUs: number;
}> {
  const password = randomBytes(18).toString('base64url');
  const hash = await new PasswordHasher().hash(password);
  const run = async (seconds: number) => {
    const latencies: number[] = [];
    const end = performance.now() + seconds * 1000;
    const worker = async () => {
      while (performance.now() < end) {
        const started = performance.now();
        if (!(await verify(hash, password))) throw new Error('argon2 floor: verify failed');
        latencies.push(performance.now() - started);
      }
    };
    await Promise.all(Array.from({ length: CONNECTIONS }, worker));
    return latencies;
  };
  await run(2);
  const cpu = process.cpuUsage();
  const started = performance.now();
  const latencies = await run(DURATION_S);
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  latencies.sort((a, b) => a - b);
  const at = (q: number) => Math.round(latencies[Math.floor(q * (latencies.length - 1))]);
  return {
    perSecond: Math.round(latencies.length / seconds),
    p50: at(0.5),
    p99: at(0.99),
    cpuUs: Math.round((used.user + used.system) / latencies.length),
  };
}
