import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createScratchMariadb } from '../src/database/cli/scratch-database';
import { measure, startBenchServer } from './bench-load';

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
    const server = await startBenchServer(PORT, {
      DATABASE_URL: database.url,
      AUDIT_LANES: String(lanes),
      AUDIT_SINKS: sinks,
      CUSTOS_DATA_DIR: dataDir,
    });
    try {
      const label = `audited, ${lanes} lane(s), sinks: ${sinks}`;
      Object.assign(
        results,
        await measure(label, { url: `http://127.0.0.1:${PORT}/api/v1/bench/ping` }),
      );
    } finally {
      await server.stop();
      await database.drop();
    }
  }
  rmSync(dataDir, { recursive: true, force: true });
  return results;
}
