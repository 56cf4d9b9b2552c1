import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as mysql from 'mysql2/promise';
import { createScratchMariadb, ScratchDatabase } from '../src/database/cli/scratch-database';
import { GaleraCluster, galeraMissing } from '../test/galera/cluster';
import { BenchServer, load, LoadResult, startBenchServer } from './bench-load';
import { seed as seedReveal } from './reveal.bench';

const COUNT = Number(process.env.BENCH_GALERA_ROTATIONS ?? 1000);
const FIRST_PORT = 3981;
const PLAIN_SERVER = process.env.MARIADB_TEST_URL ?? 'mysql://root@127.0.0.1:3306';

interface Target {
  name: string;
  /** Where the scratch database is created (one node: Galera replicates it). */
  server: string;
  writeMode: 'single-node' | 'any-node';
  /** DATABASE_URL of instance i on a database of that name. */
  url(database: string, instance: number): string;
}

interface Row {
  target: string;
  reveal: LoadResult;
  rotationSeconds: number;
}

const TARGETS: Target[] = [
  {
    name: 'plain MariaDB (one server)',
    server: PLAIN_SERVER,
    writeMode: 'single-node',
    url: (database) => `${PLAIN_SERVER}/${database}`,
  },
  {
    name: 'Galera, single-node',
    server: GaleraCluster.url(1).replace(/\/$/, ''),
    writeMode: 'single-node',
    url: (database) => GaleraCluster.hostList([1, 2, 3], database),
  },
  {
    name: 'Galera, any-node',
    server: GaleraCluster.url(1).replace(/\/$/, ''),
    writeMode: 'any-node',
    // The second instance lists the nodes in another order; any-node spreads them anyway.
    url: (database, instance) =>
      GaleraCluster.hostList(instance === 0 ? [1, 2, 3] : [2, 3, 1], database),
  },
];

/**
 * `npm run bench -- galera`: Custos on a three-node Galera cluster started here (test/galera/
 * cluster.ts, all nodes on this machine), in single-node and any-node mode, beside one plain
 * MariaDB server, in one run: the service reveal route (GET /secrets/{path}, one instance,
 * autocannon as in bench/reveal.bench.ts) and the time two instances take to rotate
 * BENCH_GALERA_ROTATIONS due credentials (as bench/rotation.bench.ts, smaller). The three nodes
 * share the machine's cores, so the cluster pays for replication and certification without the
 * extra hardware a real one has: compare the rows with each other, not with production.
 */
export async function benchGalera(): Promise<Record<string, number>> {
  const missing = galeraMissing();
  if (missing) {
    process.stderr.write(`galera bench skipped: ${missing}\n`);
    return {};
  }
  const cluster = await GaleraCluster.start();
  const rows: Row[] = [];
  try {
    await matchDurability();
    for (const target of TARGETS) {
      const reveal = await onScratch(target, (database, dataDir) =>
        measureReveal(target, database, dataDir),
      );
      const rotationSeconds = await onScratch(target, (database, dataDir) =>
        measureRotation(target, database, dataDir),
      );
      rows.push({ target: target.name, reveal, rotationSeconds });
      process.stderr.write(`galera bench: ${target.name} done\n`);
    }
  } finally {
    await cluster.stop();
  }
  process.stdout.write(table(rows));
  const results: Record<string, number> = {};
  for (const row of rows) {
    results[`reveal req/s, ${row.target}`] = row.reveal.requestsPerSecond;
    results[`reveal non-2xx, ${row.target}`] = row.reveal.non2xx + row.reveal.errors;
    results[`rotations/s, ${row.target}`] = Math.round(COUNT / row.rotationSeconds);
  }
  return results;
}

async function onScratch<T>(
  target: Target,
  work: (database: ScratchDatabase, dataDir: string) => Promise<T>,
): Promise<T> {
  const database = await createScratchMariadb(target.server);
  const dataDir = mkdtempSync(join(tmpdir(), 'custos-bench-galera-'));
  try {
    return await work(database, dataDir);
  } finally {
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function nameOf(database: ScratchDatabase): string {
  return database.url!.split('/').pop()!;
}

function instanceEnv(target: Target, database: ScratchDatabase, dataDir: string, i: number) {
  return {
    DATABASE_URL: target.url(nameOf(database), i),
    DB_WRITE_MODE: target.writeMode,
    CUSTOS_DATA_DIR: dataDir,
    AUDIT_SINKS: 'none',
    LOG_LEVEL: 'warn',
  };
}

async function measureReveal(
  target: Target,
  database: ScratchDatabase,
  dataDir: string,
): Promise<LoadResult> {
  const port = FIRST_PORT;
  const server = await startBenchServer(
    port,
    { ...instanceEnv(target, database, dataDir, 0), CUSTOS_MASTER_KEY: masterKey() },
    {
      logFile: join(dataDir, 'custos.log'),
      readyUrl: `http://127.0.0.1:${port}/api/v1/health/live`,
    },
  );
  try {
    const apiKey = await seedReveal(`http://127.0.0.1:${port}/api/v1`, dataDir);
    return await load({
      url: `http://127.0.0.1:${port}/api/v1/secrets/bench/prod/db`,
      headers: { 'x-api-key': apiKey },
      serverPid: server.pid,
    });
  } finally {
    await server.stop();
  }
}

async function measureRotation(
  target: Target,
  database: ScratchDatabase,
  dataDir: string,
): Promise<number> {
  const key = masterKey();
  await seedRotation(database, key, dataDir);
  const servers: BenchServer[] = [];
  const connection = await mysql.createConnection({ uri: database.url, timezone: 'Z' });
  try {
    for (const i of [0, 1]) {
      const port = FIRST_PORT + 1 + i;
      servers.push(
        await startBenchServer(
          port,
          {
            ...instanceEnv(target, database, dataDir, i),
            CUSTOS_MASTER_KEY: key,
            ROTATION_TICK: 'PT1S',
            DB_POOL_SIZE: '10',
          },
          {
            logFile: join(dataDir, `custos-${i}.log`),
            readyUrl: `http://127.0.0.1:${port}/api/v1/health/live`,
          },
        ),
      );
    }
    await sleep(2000);
    const started = performance.now();
    await connection.query(
      'UPDATE credentials SET next_rotation_at = UTC_TIMESTAMP(3) - INTERVAL 1 MINUTE ' +
        "WHERE rotation_status = 'scheduled'",
    );
    const deadline = Date.now() + 600_000;
    for (;;) {
      const [[row]] = await connection.query<mysql.RowDataPacket[]>(
        "SELECT (SELECT COUNT(*) FROM rotation_runs WHERE status IN ('running', 'waiting')) AS open, " +
          '(SELECT COUNT(*) FROM credentials WHERE current_version = 2) AS rotated',
      );
      if (Number(row.open) === 0 && Number(row.rotated) === COUNT) break;
      if (Date.now() > deadline) throw new Error(`${target.name}: rotation not done in time`);
      await sleep(200);
    }
    return (performance.now() - started) / 1000;
  } finally {
    await connection.end();
    for (const server of servers) await server.stop();
  }
}

/** COUNT due-able credentials under one generated policy (bench/rotation-seed.ts). */
async function seedRotation(
  database: ScratchDatabase,
  key: string,
  dataDir: string,
): Promise<void> {
  const child = spawn(process.execPath, [join(__dirname, 'rotation-seed.js')], {
    env: {
      ...process.env,
      DATABASE_URL: database.url,
      CUSTOS_MASTER_KEY: key,
      CUSTOS_DATA_DIR: dataDir,
      ROTATION_SCHEDULER_ENABLED: 'false',
      LOG_LEVEL: 'error',
      BENCH_SEED_COUNT: String(COUNT),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0 || !out.includes(`seeded ${COUNT}`)) throw new Error(`seeding failed: ${out}`);
}

/**
 * The test cluster flushes InnoDB's log lazily (fast tests); give its nodes the plain server's
 * setting, so that the rows differ by replication and not by fsync.
 */
async function matchDurability(): Promise<void> {
  const plain = await mysql.createConnection({ uri: PLAIN_SERVER });
  try {
    const [[row]] = await plain.query<mysql.RowDataPacket[]>(
      'SELECT @@innodb_flush_log_at_trx_commit AS flush',
    );
    for (const n of [1, 2, 3]) {
      const node = await mysql.createConnection({ uri: GaleraCluster.url(n) });
      await node.query('SET GLOBAL innodb_flush_log_at_trx_commit = ?', [Number(row.flush)]);
      await node.end();
    }
    process.stderr.write(`galera bench: innodb_flush_log_at_trx_commit=${row.flush} on all\n`);
  } finally {
    await plain.end();
  }
}

function masterKey(): string {
  return randomBytes(32).toString('base64');
}

function table(rows: Row[]): string {
  const header = [
    'database',
    'reveal req/s',
    'p50 ms',
    'p99 ms',
    'non-2xx',
    'rotations/s',
    'rotation s',
  ];
  const lines = [header];
  for (const row of rows) {
    lines.push([
      row.target,
      String(row.reveal.requestsPerSecond),
      String(row.reveal.p50),
      String(row.reveal.p99),
      String(row.reveal.non2xx + row.reveal.errors),
      (COUNT / row.rotationSeconds).toFixed(0),
      row.rotationSeconds.toFixed(2),
    ]);
  }
  const widths = header.map((_, i) => Math.max(...lines.map((l) => l[i].length)));
  const text = lines.map((l) => l.map((cell, i) => cell.padEnd(widths[i])).join('  ')).join('\n');
  return `\nGalera bench (${COUNT} rotations by two instances; reveal by one)\n${text}\n\n`;
}
