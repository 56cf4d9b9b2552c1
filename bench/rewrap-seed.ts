import 'reflect-metadata';
import { randomBytes, randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AppModule } from '../src/app.module';
import { Credential } from '../src/credentials/entities/credential.entity';
import { checkedSecret, secretInfoOf } from '../src/credentials/secret-input';
import { ToSeal, VersionCrypto } from '../src/credentials/version-crypto';
import { TransactionRunner } from '../src/database/transaction-runner';
import { createApp } from '../src/http/create-app';
import { runCliMain } from '../src/config/cli-entry';
import { inChunks } from './in-chunks';

/** Credentials written per transaction (two versions each), and transactions at once. */
const CHUNK = 500;
const PARALLEL = 4;
const GRACE_MS = 24 * 3600 * 1000;

/**
 * Seeds BENCH_SEED_VERSIONS credential versions for the re-wrap bench in the app's own process
 * (its scheduler off), in bulk: password credentials with version 1 `previous` (in its grace) and
 * version 2 `current`, each sealed by the app's VersionCrypto under the active master key (real,
 * decryptable data with keyed fingerprints), written by multi-row INSERTs. Prints `seeded N`.
 */
async function main(): Promise<void> {
  const count = Math.ceil(Number(process.env.BENCH_SEED_VERSIONS) / 2);
  const app = await createApp(AppModule);
  await app.init();
  try {
    const transactions = app.get(TransactionRunner);
    const crypto = app.get(VersionCrypto);
    await inChunks(count, CHUNK, PARALLEL, async (from, to) => {
      await transactions.run(async (manager) => {
        const rows: Partial<Credential>[] = [];
        const toSeal: ToSeal[] = [];
        for (let i = from; i < to; i++) {
          const id = randomUUID();
          const secret = () =>
            checkedSecret('password', { password: randomBytes(24).toString('base64url') });
          const current = secret();
          toSeal.push(
            { credentialId: id, version: 1, type: 'password', secret: secret().value },
            { credentialId: id, version: 2, type: 'password', secret: current.value },
          );
          rows.push({
            id,
            path: `bench/rewrap/c-${String(i).padStart(7, '0')}`,
            name: `re-wrap bench ${i}`,
            type: 'password',
            username: 'app',
            tags: '',
            secretInfo: secretInfoOf(current),
            status: 'active',
            currentVersion: 2,
            lastVersion: 2,
            rowVersion: 2,
            createdBy: null,
          });
        }
        await manager.insert(Credential, rows);
        const sealed = await crypto.sealAll(manager, toSeal);
        const graceUntil = new Date(Date.now() + GRACE_MS);
        const values = sealed.flatMap((s, i) => {
          const { credentialId, version } = toSeal[i];
          const current = version === 2;
          return [
            credentialId,
            version,
            current ? 'current' : 'previous',
            current ? 'current' : null,
            current ? null : graceUntil,
            s.ciphertext,
            s.iv,
            s.tag,
            s.wrappedDek,
            s.kekId,
            s.fingerprint,
          ];
        });
        await manager.query(
          'INSERT INTO credential_versions (credential_id, version, state, live_state, ' +
            'grace_until, ciphertext, iv, tag, wrapped_dek, kek_id, fingerprint) VALUES ' +
            sealed.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', '),
          values,
        );
      });
    });
    const [{ versions }] = await app
      .get(DataSource)
      .query<{ versions: number }[]>('SELECT COUNT(*) AS versions FROM credential_versions');
    process.stdout.write(`seeded ${versions}\n`);
  } finally {
    await app.close();
  }
}

runCliMain(() => main().then(() => 0));
