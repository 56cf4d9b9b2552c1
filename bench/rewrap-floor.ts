import { createHmac } from 'node:crypto';
import * as mysql from 'mysql2/promise';
import { decryptSecret, Kek, rewrapDek } from '../src/crypto/envelope';
import { derivePurposeKey } from '../src/crypto/purpose-keys';
import { runCliMain } from '../src/config/cli-entry';

/**
 * The re-wrap floor: plain mysql2 doing what a master-key rotation must do at the least, on one
 * connection, a batch per transaction (the app's default batch of 200): lock a batch of versions
 * not under the new key (with their credential's type), unwrap each data key with the old key and
 * wrap it with the new one (the project's envelope code), recompute the keyed fingerprint under
 * the new key (which needs the value decrypted, as the app does), write the batch back in one
 * UPDATE, commit. No lease, no progress, no metrics, no audit. Prints one JSON line:
 * { moved, seconds, cpuSeconds }.
 */
const BATCH = Number(process.env.BENCH_REWRAP_BATCH ?? 200);

function kekFromEnv(name: string): Kek {
  const [id, key] = process.env[name]!.split(':');
  return { id, key: Buffer.from(key, 'base64') };
}

async function main(): Promise<void> {
  const from = kekFromEnv('BENCH_REWRAP_FROM');
  const to = kekFromEnv('BENCH_REWRAP_TO');
  const fingerprintKey = derivePurposeKey(to.key, 'fingerprint');
  const connection = await mysql.createConnection({ uri: process.env.DATABASE_URL, timezone: 'Z' });
  const cpu = process.cpuUsage();
  const started = performance.now();
  let moved = 0;
  for (;;) {
    await connection.query('START TRANSACTION');
    const [rows] = await connection.query<mysql.RowDataPacket[]>(
      'SELECT v.credential_id, v.version, v.ciphertext, v.iv, v.tag, v.wrapped_dek, v.kek_id ' +
        'FROM credential_versions v JOIN credentials c ON c.id = v.credential_id ' +
        'WHERE v.wrapped_dek IS NOT NULL AND v.kek_id <> ? ' +
        `ORDER BY v.kek_id, v.credential_id, v.version LIMIT ${BATCH} FOR UPDATE`,
      [to.id],
    );
    if (rows.length === 0) {
      await connection.query('COMMIT');
      break;
    }
    const cases: unknown[] = [];
    const fingerprints: unknown[] = [];
    const keys: unknown[] = [];
    for (const row of rows) {
      const binding = { credentialId: row.credential_id as string, version: row.version as number };
      const wrappedDek = Buffer.from(row.wrapped_dek as string, 'base64');
      const plain = decryptSecret(
        from,
        {
          ciphertext: row.ciphertext as Buffer,
          iv: Buffer.from(row.iv as string, 'base64'),
          tag: Buffer.from(row.tag as string, 'base64'),
          wrappedDek,
          kekId: row.kek_id as string,
        },
        binding,
      );
      const { password } = JSON.parse(plain.toString('utf8')) as { password: string };
      plain.fill(0);
      const moved = rewrapDek(from, to, wrappedDek, binding);
      const key = [binding.credentialId, binding.version];
      cases.push(...key, moved.wrappedDek.toString('base64'));
      fingerprints.push(
        ...key,
        createHmac('sha256', fingerprintKey).update(password).digest('hex'),
      );
      keys.push(...key);
    }
    const when = rows.map(() => 'WHEN credential_id = ? AND version = ? THEN ?').join(' ');
    await connection.query(
      `UPDATE credential_versions SET wrapped_dek = CASE ${when} END, kek_id = ?, ` +
        `fingerprint = CASE ${when} END WHERE (credential_id, version) IN (${rows.map(() => '(?, ?)').join(', ')})`,
      [...cases, to.id, ...fingerprints, ...keys],
    );
    await connection.query('COMMIT');
    moved += rows.length;
  }
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  process.stdout.write(
    `${JSON.stringify({ moved, seconds, cpuSeconds: (used.user + used.system) / 1e6 })}\n`,
  );
  await connection.end();
}

runCliMain(() => main().then(() => 0));
