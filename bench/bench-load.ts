import autocannon from 'autocannon';
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { join } from 'node:path';

export const DURATION_S = Number(process.env.BENCH_DURATION ?? 10);
export const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);

export interface BenchServer {
  stop(): Promise<void>;
}

/**
 * The app with the bench routes in a process of its own (so the load generator does not share
 * its CPU), on a fresh master key, with throttling out of the way; resolves once it listens.
 */
export async function startBenchServer(
  port: number,
  env: Record<string, string | undefined>,
): Promise<BenchServer> {
  const server: ChildProcess = spawn(process.execPath, [join(__dirname, 'bench-server.js')], {
    env: {
      ...process.env,
      PORT: String(port),
      CUSTOS_MASTER_KEY: randomBytes(32).toString('base64'),
      LOG_LEVEL: 'error',
      THROTTLE_LIMIT: '100000000',
      DB_POOL_SIZE: String(CONNECTIONS),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await once(server.stdout!, 'data');
  return {
    async stop() {
      server.kill('SIGTERM');
      await once(server, 'exit');
    },
  };
}

/** Requests per second and p99 latency of one route, after a warm-up; any non-2xx fails it. */
export async function measure(
  label: string,
  options: { url: string; headers?: Record<string, string> },
): Promise<Record<string, number>> {
  const load = { ...options, connections: CONNECTIONS };
  await autocannon({ ...load, duration: 2 });
  const result = await autocannon({ ...load, duration: DURATION_S });
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(`${label}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return {
    [`req/s, ${label}`]: Math.round(result.requests.average),
    [`p99 latency ms, ${label}`]: result.latency.p99,
  };
}
