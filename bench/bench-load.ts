import autocannon from 'autocannon';
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const DURATION_S = Number(process.env.BENCH_DURATION ?? 10);
export const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);

export interface BenchServer {
  pid: number;
  stop(): Promise<void>;
}

export interface BenchServerOptions {
  /** The compiled script beside this file; the app with the bench routes by default. */
  script?: string;
  /** Where the server's stdout (its logs) goes; piped and read until "ready" when not given. */
  logFile?: string;
  /** Polled until it answers, when stdout goes to a file. */
  readyUrl?: string;
}

/**
 * A server in a process of its own (so the load generator does not share its CPU), on a fresh
 * master key, with throttling limits out of the way; resolves once it listens.
 */
export async function startBenchServer(
  port: number,
  env: Record<string, string | undefined>,
  options: BenchServerOptions = {},
): Promise<BenchServer> {
  const log = options.logFile ? openSync(options.logFile, 'a') : undefined;
  // BENCH_PROFILE_DIR: a CPU profile of the app (not the floor), written when it stops.
  const profile =
    process.env.BENCH_PROFILE_DIR && !options.script
      ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`]
      : [];
  const server: ChildProcess = spawn(
    process.execPath,
    [...profile, join(__dirname, options.script ?? 'bench-server.js')],
    {
      env: {
        ...process.env,
        PORT: String(port),
        CUSTOS_MASTER_KEY: randomBytes(32).toString('base64'),
        LOG_LEVEL: 'error',
        THROTTLE_LIMIT: '100000000',
        REVEAL_RATE_LIMIT: '100000000',
        DB_POOL_SIZE: String(CONNECTIONS),
        ...env,
      },
      stdio: ['ignore', log ?? 'pipe', 'inherit'],
    },
  );
  if (log !== undefined) closeSync(log);
  if (options.readyUrl) await waitUntilAnswering(options.readyUrl, server);
  else await once(server.stdout!, 'data');
  return {
    pid: server.pid!,
    async stop() {
      server.kill('SIGTERM');
      await once(server, 'exit');
    },
  };
}

async function waitUntilAnswering(url: string, server: ChildProcess): Promise<void> {
  for (let attempt = 0; attempt < 600; attempt++) {
    if (server.exitCode !== null) throw new Error(`${url}: the server exited (${server.exitCode})`);
    try {
      await fetch(url);
      return;
    } catch {
      await sleep(100);
    }
  }
  throw new Error(`${url}: no answer after 60 s`);
}

export interface LoadOptions {
  url: string;
  method?: 'GET' | 'POST';
  body?: string;
  headers?: Record<string, string>;
  connections?: number;
  /** The server's process, whose CPU time per request is measured too (Linux). */
  serverPid?: number;
}

export interface LoadResult {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  /** CPU time per request (µs) of the server process and of the database server, if known. */
  serverCpuUs?: number;
  databaseCpuUs?: number;
}

/** Requests per second, p50 and p99 latency (ms) and failures of one route, after a warm-up. */
export async function load(options: LoadOptions): Promise<LoadResult> {
  const { serverPid, ...target } = options;
  const run = { ...target, connections: options.connections ?? CONNECTIONS };
  await autocannon({ ...run, duration: 2 });
  const database = databasePid();
  const before = [cpuSeconds(serverPid), cpuSeconds(database)];
  const result = await autocannon({ ...run, duration: DURATION_S });
  const after = [cpuSeconds(serverPid), cpuSeconds(database)];
  const perRequest = (i: number) =>
    before[i] === undefined || after[i] === undefined || result.requests.total === 0
      ? undefined
      : Math.round(((after[i] - before[i]) / result.requests.total) * 1e6);
  return {
    requestsPerSecond: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    serverCpuUs: perRequest(0),
    databaseCpuUs: perRequest(1),
  };
}

/** User + system CPU seconds of a process so far, from /proc (undefined elsewhere). */
export function cpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** Linux's USER_HZ, the unit of /proc/<pid>/stat times, on every platform Node runs on. */
const CLOCK_TICKS = 100;

/** The local MariaDB server's process, when it runs on this machine. */
export function databasePid(): number | undefined {
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const name = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
      if (name === 'mariadbd' || name === 'mysqld') return Number(entry);
    }
  } catch {
    // Not Linux, or not allowed to look: no database figure.
  }
  return undefined;
}

/** Requests per second and p99 latency of one route; any non-2xx fails it. */
export async function measure(
  label: string,
  options: LoadOptions,
): Promise<Record<string, number>> {
  const result = await load(options);
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(`${label}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return {
    [`req/s, ${label}`]: result.requestsPerSecond,
    [`p99 latency ms, ${label}`]: result.p99,
  };
}
