import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as mysql from 'mysql2/promise';
import { decryptSecret } from '../src/crypto/envelope';
import { createScratchMariadb, ScratchDatabase } from '../src/database/cli/scratch-database';
import { BenchServer, startBenchServer } from './bench-load';
import { runScript } from './run-script';

const COUNT = Number(process.env.BENCH_ROTATION_COUNT ?? 10_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 1);
/** Which measurements to take: floor, one, two (all by default). */
const WHICH = (process.env.BENCH_ROTATION ?? 'floor,one,two').split(',');
const FIRST_PORT = 3995;
const POLL_MS = 200;
const TIMEOUT_MS = Number(process.env.BENCH_ROTATION_TIMEOUT_S ?? 900) * 1000;
/** Where the servers write their statement counts (bench/sql-count.ts), when set. */
const SQL_COUNT_DIR = process.env.BENCH_SQL_COUNT_DIR;

interface Measurement {
  label: string;
  round: number;
  seconds: number;
  /** CPU seconds of the Node process(es) and of MariaDB during the measurement. */
  nodeCpu?: number;
  databaseCpu?: number;
  /** Credentials with exactly two versions afterwards (and, for the app, one succeeded run). */
  rotatedOnce?: number;
}

/**
 * Rotating 10,000 credentials at once (issue 10): a scratch database seeded with COUNT password
 * credentials under one `generated` pattern policy (bench/rotation-seed.ts), all made due by one
 * UPDATE, then timed until no run is open and every one has version 2 current. Measured three
 * ways, each on a database of its own seeded the same way: the floor (bench/rotation-floor.ts,
 * plain mysql2, 4 workers), one Custos instance, and two instances on the same database. Custos
 * runs as bench-server.ts does, with ROTATION_TICK=PT1S and otherwise its defaults (pool size,
 * ROTATION_CONCURRENCY, ROTATION_BATCH_SIZE) unless BENCH_POOL_SIZE, BENCH_ROTATION_CONCURRENCY or
 * BENCH_BATCH_SIZE say otherwise; BENCH_KEEP_LOGS keeps the instances' logs.
 */
export async function benchRotation(): Promise<Record<string, number>> {
  const masterKey = randomBytes(32).toString('base64');
  const measurements: Measurement[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    for (const label of ['floor', 'one', 'two'].filter((w) => WHICH.includes(w))) {
      const measured = await onFreshDatabase(label, masterKey, (db, dataDir) =>
        label === 'floor'
          ? runFloor(db, masterKey)
          : runInstances(db, masterKey, dataDir, label === 'one' ? 1 : 2),
      );
      measurements.push({ label, round, ...measured });
      process.stderr.write(`rotation ${label} #${round}: ${measured.seconds.toFixed(2)} s\n`);
    }
  }
  process.stdout.write(table(measurements));
  const results: Record<string, number> = { 'rotation credentials': COUNT };
  for (const m of measurements) {
    const suffix = ROUNDS > 1 ? ` #${m.round}` : '';
    results[`rotations/s ${m.label}${suffix}`] = Math.round(COUNT / m.seconds);
    results[`rotation seconds ${m.label}${suffix}`] = Math.round(m.seconds * 100) / 100;
    results[`rotated exactly once ${m.label}${suffix}`] = m.rotatedOnce ?? 0;
  }
  return results;
}

async function onFreshDatabase(
  label: string,
  masterKey: string,
  work: (
    database: ScratchDatabase,
    dataDir: string,
  ) => Promise<Omit<Measurement, 'label' | 'round'>>,
): Promise<Omit<Measurement, 'label' | 'round'>> {
  const dataDir = mkdtempSync(join(tmpdir(), 'custos-bench-rotation-'));
  const database = await createScratchMariadb();
  try {
    await seed(database, masterKey, dataDir);
    const measured = await work(database, dataDir);
    return { ...measured, rotatedOnce: await verify(database, masterKey, label) };
  } finally {
    await database.drop();
    if (process.env.BENCH_KEEP_LOGS) process.stderr.write(`logs kept in ${dataDir}\n`);
    else rmSync(dataDir, { recursive: true, force: true });
  }
}

function baseEnv(database: ScratchDatabase, masterKey: string, dataDir: string) {
  return {
    DATABASE_URL: database.url,
    CUSTOS_MASTER_KEY: masterKey,
    CUSTOS_DATA_DIR: dataDir,
    AUDIT_SINKS: 'none',
  };
}

async function seed(database: ScratchDatabase, masterKey: string, dataDir: string): Promise<void> {
  const started = Date.now();
  const out = await runScript('rotation-seed.js', {
    ...baseEnv(database, masterKey, dataDir),
    ROTATION_SCHEDULER_ENABLED: 'false',
    LOG_LEVEL: 'error',
    BENCH_SEED_COUNT: String(COUNT),
  });
  if (!out.includes(`seeded ${COUNT}`)) throw new Error(`seeding failed: ${out}`);
  process.stderr.write(`seeded ${COUNT} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}

async function runFloor(
  database: ScratchDatabase,
  masterKey: string,
): Promise<Omit<Measurement, 'label' | 'round'>> {
  const dbPid = databasePid();
  const dbBefore = cpuSeconds(dbPid);
  const out = await runScript('rotation-floor.js', {
    DATABASE_URL: database.url,
    CUSTOS_MASTER_KEY: masterKey,
  });
  const dbAfter = cpuSeconds(dbPid);
  const result = JSON.parse(out.trim().split('\n').pop()!) as {
    rotated: number;
    seconds: number;
    cpuSeconds: number;
  };
  if (result.rotated !== COUNT) throw new Error(`the floor rotated ${result.rotated}`);
  return {
    seconds: result.seconds,
    nodeCpu: result.cpuSeconds,
    databaseCpu: diff(dbBefore, dbAfter),
  };
}

async function runInstances(
  database: ScratchDatabase,
  masterKey: string,
  dataDir: string,
  instances: number,
): Promise<Omit<Measurement, 'label' | 'round'>> {
  const servers: BenchServer[] = [];
  let result: Omit<Measurement, 'label' | 'round'>;
  const connection = await mysql.createConnection({ uri: database.url, timezone: 'Z' });
  try {
    for (let i = 0; i < instances; i++) {
      const port = FIRST_PORT + i;
      servers.push(
        await startBenchServer(
          port,
          {
            ...baseEnv(database, masterKey, dataDir),
            LOG_LEVEL: 'info',
            ROTATION_TICK: 'PT1S',
            DB_POOL_SIZE: process.env.BENCH_POOL_SIZE ?? '10',
            ROTATION_CONCURRENCY: process.env.BENCH_ROTATION_CONCURRENCY,
            ROTATION_BATCH_SIZE: process.env.BENCH_BATCH_SIZE,
            NODE_OPTIONS: SQL_COUNT_DIR
              ? `--require ${join(__dirname, 'sql-count.js')}`
              : undefined,
            BENCH_SQL_COUNT_DIR: SQL_COUNT_DIR,
          },
          {
            logFile: join(dataDir, `custos-${i}.log`),
            readyUrl: `http://127.0.0.1:${port}/api/v1/health/live`,
          },
        ),
      );
    }
    // Let start-up work (lanes, leases, first ticks) settle before the clock starts.
    await sleep(2000);
    if (SQL_COUNT_DIR) for (const server of servers) process.kill(server.pid, 'SIGUSR2');
    const dbPid = databasePid();
    const cpuBefore = servers.map((s) => cpuSeconds(s.pid));
    const dbBefore = cpuSeconds(dbPid);
    const started = performance.now();
    await connection.query(
      'UPDATE credentials SET next_rotation_at = UTC_TIMESTAMP(3) - INTERVAL 1 MINUTE ' +
        "WHERE rotation_status = 'scheduled'",
    );
    const deadline = Date.now() + TIMEOUT_MS;
    for (;;) {
      // Cheap while runs are open (the status index); the full count only when none is.
      const [[{ open }]] = await connection.query<mysql.RowDataPacket[]>(
        "SELECT COUNT(*) AS open FROM rotation_runs WHERE status IN ('running', 'waiting')",
      );
      let rotated = 0;
      if (Number(open) === 0) {
        const [[row]] = await connection.query<mysql.RowDataPacket[]>(
          'SELECT COUNT(*) AS rotated FROM credentials WHERE current_version = 2',
        );
        rotated = Number(row.rotated);
        if (rotated === COUNT) break;
      }
      if (Date.now() > deadline) {
        for (let i = 0; i < instances; i++) {
          const log = readFileSync(join(dataDir, `custos-${i}.log`), 'utf8').split('\n');
          process.stderr.write(`custos-${i}.log, last lines:\n${log.slice(-20).join('\n')}\n`);
        }
        throw new Error(`not done in time: ${rotated} rotated, ${open} runs open`);
      }
      await sleep(POLL_MS);
    }
    const seconds = (performance.now() - started) / 1000;
    const cpuAfter = servers.map((s) => cpuSeconds(s.pid));
    const nodeCpu = cpuAfter.reduce<number | undefined>(
      (sum, after, i) =>
        sum === undefined || diff(cpuBefore[i], after) === undefined
          ? undefined
          : sum + diff(cpuBefore[i], after)!,
      0,
    );
    result = { seconds, nodeCpu, databaseCpu: diff(dbBefore, cpuSeconds(dbPid)) };
  } finally {
    await connection.end();
    for (const server of servers) await server.stop();
  }
  if (SQL_COUNT_DIR) reportStatements(servers.map((s) => s.pid));
  return result;
}

/** Statements per rotated credential, in all and by shape (BENCH_SQL_COUNT_DIR). */
function reportStatements(pids: number[]): void {
  const total = new Map<string, [number, number]>();
  for (const pid of pids) {
    const file = join(SQL_COUNT_DIR!, `sql-${pid}.json`);
    const counts = JSON.parse(readFileSync(file, 'utf8')) as Record<string, [number, number]>;
    for (const [shape, [n, ms]] of Object.entries(counts)) {
      const [n0, ms0] = total.get(shape) ?? [0, 0];
      total.set(shape, [n0 + n, ms0 + ms]);
    }
  }
  const all = [...total.values()].reduce((a, [n]) => a + n, 0);
  const lines = [...total]
    .sort((a, b) => b[1][1] - a[1][1])
    .map(
      ([shape, [n, ms]]) =>
        `${(n / COUNT).toFixed(2).padStart(7)} ${(ms / COUNT).toFixed(2).padStart(8)} ms  ${shape.slice(0, 150)}`,
    );
  process.stderr.write(
    `\nstatements per credential (${pids.length} instance(s)): ${(all / COUNT).toFixed(2)}; ` +
      `by total time until answered per credential\n${lines.join('\n')}\n\n`,
  );
}

/**
 * Every credential rotated once, as the engine promises: version 2 current and version 1 previous
 * under its grace, one succeeded run each, rescheduled, and a sample of version 2 decrypts.
 */
async function verify(
  database: ScratchDatabase,
  masterKey: string,
  label: string,
): Promise<number> {
  const connection = await mysql.createConnection({ uri: database.url, timezone: 'Z' });
  try {
    const [[row]] = await connection.query<mysql.RowDataPacket[]>(
      "SELECT (SELECT COUNT(*) FROM credential_versions WHERE version = 2 AND state = 'current') AS current2, " +
        "(SELECT COUNT(*) FROM credential_versions WHERE version = 1 AND state = 'previous') AS previous1, " +
        "(SELECT COUNT(*) FROM credentials WHERE current_version = 2 AND rotation_status = 'scheduled' " +
        '  AND next_rotation_at > UTC_TIMESTAMP(3)) AS rescheduled',
    );
    for (const [name, value] of Object.entries(row)) {
      if (Number(value) !== COUNT) throw new Error(`verify: ${name} is ${value}, not ${COUNT}`);
    }
    // Rotated exactly once: two versions each, and (the app) one succeeded run each.
    const [[once]] = await connection.query<mysql.RowDataPacket[]>(
      'SELECT (SELECT COUNT(*) FROM credential_versions) AS versions, ' +
        '(SELECT COUNT(*) FROM (SELECT credential_id FROM credential_versions GROUP BY credential_id ' +
        '  HAVING COUNT(*) = 2) t) AS twice, ' +
        "(SELECT COUNT(DISTINCT credential_id) FROM rotation_runs WHERE status = 'succeeded') AS runCredentials, " +
        "(SELECT COUNT(*) FROM rotation_runs WHERE status = 'succeeded') AS runs",
    );
    const runsOk =
      label === 'floor' || (Number(once.runs) === COUNT && Number(once.runCredentials) === COUNT);
    const rotatedOnce =
      Number(once.versions) === 2 * COUNT && Number(once.twice) === COUNT && runsOk;
    process.stderr.write(
      `rotation ${label}: ${once.versions} versions, ${once.twice} credentials with exactly 2, ` +
        `${once.runs} succeeded runs over ${once.runCredentials} credentials\n`,
    );
    if (!rotatedOnce) throw new Error(`verify: not every credential rotated exactly once`);
    const [sample] = await connection.query<mysql.RowDataPacket[]>(
      'SELECT credential_id, version, ciphertext, iv, tag, wrapped_dek, kek_id FROM credential_versions ' +
        'WHERE version = 2 ORDER BY RAND() LIMIT 20',
    );
    for (const v of sample) {
      const plain = decryptSecret(
        { id: v.kek_id as string, key: Buffer.from(masterKey, 'base64') },
        {
          ciphertext: v.ciphertext as Buffer,
          iv: Buffer.from(v.iv as string, 'base64'),
          tag: Buffer.from(v.tag as string, 'base64'),
          wrappedDek: Buffer.from(v.wrapped_dek as string, 'base64'),
          kekId: v.kek_id as string,
        },
        { credentialId: v.credential_id as string, version: 2 },
      );
      const secret = JSON.parse(plain.toString('utf8')) as { password?: unknown };
      if (typeof secret.password !== 'string' || secret.password.length < 16) {
        throw new Error('verify: version 2 holds no generated password');
      }
    }
    return Number(once.twice);
  } finally {
    await connection.end();
  }
}

function diff(before: number | undefined, after: number | undefined): number | undefined {
  return before === undefined || after === undefined ? undefined : after - before;
}

function cpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

function databasePid(): number | undefined {
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const name = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
      if (name === 'mariadbd' || name === 'mysqld') return Number(entry);
    }
  } catch {
    // Not Linux: no CPU figures.
  }
  return undefined;
}

function table(measurements: Measurement[]): string {
  const header = [
    'round',
    'run',
    'credentials/s',
    'seconds',
    'vs floor',
    'two/one',
    'Node CPU ms/cred',
    'DB CPU ms/cred',
  ];
  const lines = [header];
  const ms = (cpu: number | undefined) =>
    cpu === undefined ? '-' : ((cpu / COUNT) * 1000).toFixed(2);
  for (let round = 1; round <= ROUNDS; round++) {
    const of = (label: string) => measurements.find((m) => m.round === round && m.label === label);
    const floor = of('floor');
    const one = of('one');
    for (const m of measurements.filter((x) => x.round === round)) {
      const rate = COUNT / m.seconds;
      lines.push([
        String(round),
        m.label === 'floor' ? 'floor' : m.label === 'one' ? 'one instance' : 'two instances',
        rate.toFixed(0),
        m.seconds.toFixed(2),
        floor && m !== floor ? (floor.seconds / m.seconds).toFixed(2) : '',
        one && m.label === 'two' ? (one.seconds / m.seconds).toFixed(2) : '',
        ms(m.nodeCpu),
        ms(m.databaseCpu),
      ]);
    }
  }
  const widths = header.map((_, i) => Math.max(...lines.map((l) => l[i].length)));
  return `\n${lines.map((l) => l.map((cell, i) => cell.padEnd(widths[i])).join('  ')).join('\n')}\n\n`;
}
