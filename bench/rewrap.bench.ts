import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as mysql from 'mysql2/promise';
import { decryptSecret, Kek } from '../src/crypto/envelope';
import { derivePurposeKey } from '../src/crypto/purpose-keys';
import { createScratchMariadb, ScratchDatabase } from '../src/database/cli/scratch-database';
import { cpuSeconds, databasePid } from './bench-load';
import { runScript } from './run-script';

const VERSIONS = Number(process.env.BENCH_REWRAP_VERSIONS ?? 100_000);

interface Measured {
  seconds: number;
  nodeCpu: number;
  databaseCpu?: number;
}

/**
 * Master-key rotation over VERSIONS credential versions (issue 14): each of two scratch databases
 * is seeded the same way in bulk (bench/rewrap-seed.ts, under key `old`), then on one the floor
 * (bench/rewrap-floor.ts, bare mysql2) and on the other the app (bench/rewrap-app.ts, the
 * service behind `keys:rotate`) move every data key to key `new`. Timed from the first batch to
 * the last; afterwards nothing may be left under `old` and a sample must decrypt under `new` with
 * its fingerprint recomputed.
 */
export async function benchRewrap(): Promise<Record<string, number>> {
  const old: Kek = { id: 'old', key: randomBytes(32) };
  const next: Kek = { id: 'new', key: randomBytes(32) };
  const spec = (k: Kek) => `${k.id}:${k.key.toString('base64')}`;
  const floor = await onSeededDatabase(
    old,
    async (database) => {
      const out = await runRewrapScript('rewrap-floor.js', {
        DATABASE_URL: database.url,
        BENCH_REWRAP_FROM: spec(old),
        BENCH_REWRAP_TO: spec(next),
      });
      return checked('floor', out);
    },
    next,
  );
  const custos = await onSeededDatabase(
    old,
    async (database, dataDir) => {
      const out = await runRewrapScript('rewrap-app.js', {
        DATABASE_URL: database.url,
        CUSTOS_DATA_DIR: dataDir,
        CUSTOS_MASTER_KEYS: `${spec(old)},${spec(next)}`,
        ROTATION_SCHEDULER_ENABLED: 'false',
        AUDIT_SINKS: 'none',
        LOG_LEVEL: 'error',
        BENCH_REWRAP_TO: next.id,
      });
      return checked('custos', out);
    },
    next,
  );
  const perSecond = (m: Measured) => Math.round(VERSIONS / m.seconds);
  const ms = (cpu: number | undefined) =>
    cpu === undefined ? 0 : Math.round((cpu / VERSIONS) * 1e6) / 1000;
  return {
    'rewrap versions': VERSIONS,
    'rewrap versions/s floor': perSecond(floor),
    'rewrap versions/s custos': perSecond(custos),
    'rewrap seconds floor': Math.round(floor.seconds * 100) / 100,
    'rewrap seconds custos': Math.round(custos.seconds * 100) / 100,
    'rewrap ratio': Math.round((floor.seconds / custos.seconds) * 100) / 100,
    'rewrap Node CPU ms/version floor': ms(floor.nodeCpu),
    'rewrap Node CPU ms/version custos': ms(custos.nodeCpu),
    'rewrap DB CPU ms/version floor': ms(floor.databaseCpu),
    'rewrap DB CPU ms/version custos': ms(custos.databaseCpu),
  };
}

function checked(label: string, out: string): Omit<Measured, 'databaseCpu'> {
  const result = JSON.parse(out.trim().split('\n').pop()!) as {
    moved: number;
    seconds: number;
    cpuSeconds: number;
  };
  if (result.moved !== VERSIONS) throw new Error(`rewrap ${label} moved ${result.moved}`);
  process.stderr.write(`rewrap ${label}: ${result.seconds.toFixed(2)} s\n`);
  return { seconds: result.seconds, nodeCpu: result.cpuSeconds };
}

async function onSeededDatabase(
  old: Kek,
  work: (database: ScratchDatabase, dataDir: string) => Promise<Omit<Measured, 'databaseCpu'>>,
  next: Kek,
): Promise<Measured> {
  const dataDir = mkdtempSync(join(tmpdir(), 'custos-bench-rewrap-'));
  const database = await createScratchMariadb();
  try {
    const started = Date.now();
    const out = await runRewrapScript('rewrap-seed.js', {
      DATABASE_URL: database.url,
      CUSTOS_DATA_DIR: dataDir,
      CUSTOS_MASTER_KEYS: `${old.id}:${old.key.toString('base64')}`,
      ROTATION_SCHEDULER_ENABLED: 'false',
      AUDIT_SINKS: 'none',
      LOG_LEVEL: 'error',
      BENCH_SEED_VERSIONS: String(VERSIONS),
    });
    if (!out.includes(`seeded ${VERSIONS}`)) throw new Error(`seeding failed: ${out}`);
    process.stderr.write(
      `seeded ${VERSIONS} versions in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
    );
    const dbPid = databasePid();
    const dbBefore = cpuSeconds(dbPid);
    const measured = await work(database, dataDir);
    const dbAfter = cpuSeconds(dbPid);
    await verify(database, next);
    const databaseCpu =
      dbBefore === undefined || dbAfter === undefined ? undefined : dbAfter - dbBefore;
    return { ...measured, databaseCpu };
  } finally {
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Every version under the new key; a sample decrypts with it and has the new fingerprint. */
async function verify(database: ScratchDatabase, next: Kek): Promise<void> {
  const connection = await mysql.createConnection({ uri: database.url, timezone: 'Z' });
  try {
    const [[row]] = await connection.query<mysql.RowDataPacket[]>(
      'SELECT SUM(kek_id = ?) AS moved, COUNT(*) AS total FROM credential_versions',
      [next.id],
    );
    if (Number(row.moved) !== VERSIONS || Number(row.total) !== VERSIONS)
      throw new Error(`rewrap verify: ${row.moved} of ${row.total} under "${next.id}"`);
    const fingerprintKey = derivePurposeKey(next.key, 'fingerprint');
    const [sample] = await connection.query<mysql.RowDataPacket[]>(
      'SELECT credential_id, version, ciphertext, iv, tag, wrapped_dek, kek_id, fingerprint ' +
        'FROM credential_versions ORDER BY RAND() LIMIT 20',
    );
    for (const v of sample) {
      const plain = decryptSecret(
        next,
        {
          ciphertext: v.ciphertext as Buffer,
          iv: Buffer.from(v.iv as string, 'base64'),
          tag: Buffer.from(v.tag as string, 'base64'),
          wrappedDek: Buffer.from(v.wrapped_dek as string, 'base64'),
          kekId: v.kek_id as string,
        },
        { credentialId: v.credential_id as string, version: v.version as number },
      );
      const { password } = JSON.parse(plain.toString('utf8')) as { password: string };
      const expected = createHmac('sha256', fingerprintKey).update(password).digest('hex');
      if (v.fingerprint !== expected) throw new Error('rewrap verify: fingerprint not recomputed');
    }
  } finally {
    await connection.end();
  }
}

/** A script of this bench, with only the master keys its env names (none inherited). */
function runRewrapScript(script: string, env: Record<string, string | undefined>): Promise<string> {
  const profile =
    process.env.BENCH_PROFILE_DIR && script === 'rewrap-app.js'
      ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`]
      : [];
  return runScript(
    script,
    {
      // Only the keys given here: an earlier in-process bench may have set a single master key.
      CUSTOS_MASTER_KEY: undefined,
      CUSTOS_MASTER_KEY_FILE: undefined,
      CUSTOS_MASTER_KEYS_DIR: undefined,
      CUSTOS_MASTER_KEY_ID: undefined,
      ...env,
    },
    profile,
  );
}
