import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createScratchMariadb } from '../src/database/cli/scratch-database';

const DURATION_S = Number(process.env.BENCH_DURATION ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const PORT = 3990;

/**
 * Audited requests per second against real MariaDB, with one chain lane and with the default
 * eight. The server runs in its own process; autocannon runs here.
 */
export async function benchAuditInsert(): Promise<Record<string, number>> {
  const results: Record<string, number> = {};
  const dataDir = mkdtempSync(join(tmpdir(), 'custos-bench-'));
  for (const [lanes, sinks] of [
    [1, 'none'],
    [8, 'none'],
    [8, 'file'],
  ] as const) {
    const database = await createScratchMariadb();
    const server = spawn(process.execPath, [join(__dirname, 'bench-server.js')], {
      env: {
        ...process.env,
        PORT: String(PORT),
        DATABASE_URL: database.url,
        CUSTOS_MASTER_KEY: randomBytes(32).toString('base64'),
        AUDIT_LANES: String(lanes),
        AUDIT_SINKS: sinks,
        CUSTOS_DATA_DIR: dataDir,
        LOG_LEVEL: 'error',
        THROTTLE_LIMIT: '100000000',
        DB_POOL_SIZE: String(CONNECTIONS),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      await once(server.stdout, 'data');
      const url = `http://127.0.0.1:${PORT}/api/v1/bench/ping`;
      await autocannon({ url, connections: CONNECTIONS, duration: 2 }); // warm-up
      const result = await autocannon({ url, connections: CONNECTIONS, duration: DURATION_S });
      if (result.non2xx > 0 || result.errors > 0)
        throw new Error(`${result.non2xx} non-2xx, ${result.errors} errors`);
      const label = `${lanes} lane(s), sinks: ${sinks}`;
      results[`audited req/s, ${label}`] = Math.round(result.requests.average);
      results[`p99 latency ms, ${label}`] = result.latency.p99;
    } finally {
      server.kill('SIGTERM');
      await once(server, 'exit');
      await database.drop();
    }
  }
  rmSync(dataDir, { recursive: true, force: true });
  return results;
}
