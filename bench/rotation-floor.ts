import { createHmac, randomInt } from 'node:crypto';
import * as mysql from 'mysql2';
import { encryptSecret, Kek } from '../src/crypto/envelope';
import { derivePurposeKey } from '../src/crypto/purpose-keys';
import { runCliMain } from '../src/config/cli-entry';

/**
 * The rotation floor: plain mysql2 (callback API) rotating every due credential of the seeded
 * database the way the engine must at the least, one transaction per secret, 4 workers: lock the
 * credential row, generate a random value, encrypt it with AES-256-GCM under a fresh data key
 * wrapped by the master key (the project's envelope code), insert the version, move the old
 * current version to previous and the new one to current, update the credential row, insert one
 * audit event, commit. No runs, no steps, no claims, no test of the value, no outbox event.
 * Prints one JSON line: { rotated, seconds, cpuSeconds }.
 */
const WORKERS = Number(process.env.BENCH_FLOOR_WORKERS ?? 4);
const GRACE_SECONDS = 3600;
const INTERVAL_MS = 30 * 24 * 3600 * 1000;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

const masterKey = Buffer.from(process.env.CUSTOS_MASTER_KEY!, 'base64');
const auditKey = derivePurposeKey(masterKey, 'audit-chain');
const fingerprintKey = derivePurposeKey(masterKey, 'fingerprint');
const pool = mysql.createPool({
  uri: process.env.DATABASE_URL,
  connectionLimit: WORKERS,
  timezone: 'Z',
});
let laneSeq = 0;

function query<T>(
  connection: mysql.Pool | mysql.PoolConnection,
  sql: string,
  values: unknown[] = [],
): Promise<T> {
  return new Promise((resolve, reject) =>
    connection.query(sql, values, (error, rows) => (error ? reject(error) : resolve(rows as T))),
  );
}

function connection(): Promise<mysql.PoolConnection> {
  return new Promise((resolve, reject) =>
    pool.getConnection((error, conn) => (error ? reject(error) : resolve(conn))),
  );
}

/** 32 characters from the generator's default alphabet, without bias. */
function generate(): string {
  let value = '';
  for (let i = 0; i < 32; i++) value += ALPHABET[randomInt(ALPHABET.length)];
  return value;
}

interface Row {
  id: string;
  path: string;
  current_version: number;
  last_version: number;
  row_version: number;
  username: string | null;
}

async function rotate(conn: mysql.PoolConnection, kek: Kek, id: string): Promise<void> {
  await query(conn, 'START TRANSACTION');
  try {
    const [credential] = await query<Row[]>(
      conn,
      'SELECT id, path, current_version, last_version, row_version, username FROM credentials ' +
        'WHERE id = ? FOR UPDATE',
      [id],
    );
    const version = credential.last_version + 1;
    const password = generate();
    const plaintext = Buffer.from(JSON.stringify({ password }), 'utf8');
    const sealed = encryptSecret(kek, plaintext, { credentialId: id, version });
    plaintext.fill(0);
    const fingerprint = createHmac('sha256', fingerprintKey).update(password).digest('hex');
    const now = new Date();
    await query(
      conn,
      'INSERT INTO credential_versions (credential_id, version, state, live_state, ciphertext, iv, ' +
        "tag, wrapped_dek, kek_id, fingerprint, created_by) VALUES (?, ?, 'pending', 'pending', ?, ?, ?, ?, ?, ?, 'system')",
      [
        id,
        version,
        sealed.ciphertext,
        sealed.iv.toString('base64'),
        sealed.tag.toString('base64'),
        sealed.wrappedDek.toString('base64'),
        kek.id,
        fingerprint,
      ],
    );
    await query(
      conn,
      "UPDATE credential_versions SET state = 'previous', live_state = NULL, grace_until = ? " +
        "WHERE credential_id = ? AND state = 'current'",
      [new Date(now.getTime() + GRACE_SECONDS * 1000), id],
    );
    await query(
      conn,
      "UPDATE credential_versions SET state = 'current', live_state = 'current' " +
        'WHERE credential_id = ? AND version = ?',
      [id, version],
    );
    await query(
      conn,
      'UPDATE credentials SET current_version = ?, last_version = ?, row_version = ?, ' +
        "next_rotation_at = ?, rotation_status = 'scheduled' WHERE id = ?",
      [version, version, credential.row_version + 1, new Date(now.getTime() + INTERVAL_MS), id],
    );
    const details = JSON.stringify({
      credentialId: id,
      path: credential.path,
      version,
      previousVersion: credential.current_version,
    });
    const seq = ++laneSeq;
    const hash = createHmac('sha256', auditKey)
      .update(`${seq}|rotation.succeeded|system|${id}|${details}`)
      .digest('hex');
    await query(
      conn,
      'INSERT INTO floor_audit_events (lane, lane_seq, occurred_at, actor_type, actor_id, ' +
        'actor_display, action, resource_type, resource_id, outcome, details, key_id, prev_hash, ' +
        "hash) VALUES (0, ?, ?, 'system', 'system', 'system', 'rotation.succeeded', 'credential', " +
        "?, 'success', ?, 'floor', NULL, ?)",
      [seq, now, id, details, hash],
    );
    await query(conn, 'COMMIT');
  } catch (error) {
    await query(conn, 'ROLLBACK');
    throw error;
  }
}

async function main(): Promise<void> {
  await query(pool, 'CREATE TABLE IF NOT EXISTS floor_audit_events LIKE audit_events');
  const [active] = await query<{ id: string }[]>(
    pool,
    "SELECT id FROM keyring WHERE status = 'active'",
  );
  const kek: Kek = { id: active.id, key: masterKey };
  const cpu = process.cpuUsage();
  const started = performance.now();
  // Everything is due now, as for the engine; the floor takes the list once.
  await query(
    pool,
    'UPDATE credentials SET next_rotation_at = UTC_TIMESTAMP(3) - INTERVAL 1 MINUTE ' +
      "WHERE rotation_status = 'scheduled'",
  );
  const due = await query<{ id: string }[]>(
    pool,
    'SELECT id FROM credentials WHERE next_rotation_at <= UTC_TIMESTAMP(3) ' +
      "AND status = 'active' AND rotation_status IN ('scheduled', 'failed') ORDER BY next_rotation_at",
  );
  let next = 0;
  const worker = async () => {
    const conn = await connection();
    try {
      while (next < due.length) await rotate(conn, kek, due[next++].id);
    } finally {
      conn.release();
    }
  };
  await Promise.all(Array.from({ length: WORKERS }, worker));
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  process.stdout.write(
    `${JSON.stringify({ rotated: due.length, seconds, cpuSeconds: (used.user + used.system) / 1e6 })}\n`,
  );
  await new Promise<void>((resolve) => pool.end(() => resolve()));
}

runCliMain(() => main().then(() => 0));
