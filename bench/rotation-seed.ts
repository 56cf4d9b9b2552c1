import 'reflect-metadata';
import { randomBytes, randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AppModule } from '../src/app.module';
import { Credential } from '../src/credentials/entities/credential.entity';
import { checkedSecret, secretInfoOf } from '../src/credentials/secret-input';
import { VersionStore } from '../src/credentials/version-store';
import { TransactionRunner } from '../src/database/transaction-runner';
import { createApp } from '../src/http/create-app';
import { PatternPolicyService } from '../src/rotation/policy/pattern-policy.service';
import { runCliMain } from '../src/config/cli-entry';
import { inChunks } from './in-chunks';

/** Credentials written per transaction, and transactions at once. */
const CHUNK = 250;
const PARALLEL = 4;

/** The path pattern of the one policy that governs every seeded credential. */
export const BENCH_PATTERN = 'bench/**';

/**
 * Seeds BENCH_SEED_COUNT password credentials under bench/rot/ in the app's own process (its
 * scheduler off): credential rows inserted in batches, version 1 sealed and stored by the app's
 * VersionStore (real, decryptable data under CUSTOS_MASTER_KEY), then one path-pattern policy
 * (`generated` rotator) put through the same service as `PUT /api/v1/rotation-policies`, which
 * schedules them all. Prints `seeded N` and exits.
 */
async function main(): Promise<void> {
  const count = Number(process.env.BENCH_SEED_COUNT);
  const app = await createApp(AppModule);
  await app.init();
  try {
    const transactions = app.get(TransactionRunner);
    const versions = app.get(VersionStore);
    await inChunks(count, CHUNK, PARALLEL, async (from, to) => {
      await transactions.run(async (manager) => {
        const rows: Partial<Credential>[] = [];
        const secrets = [];
        for (let i = from; i < to; i++) {
          const secret = checkedSecret('password', {
            password: randomBytes(24).toString('base64url'),
          });
          secrets.push(secret);
          rows.push({
            id: randomUUID(),
            path: `bench/rot/c-${String(i).padStart(6, '0')}`,
            name: `rotation bench ${i}`,
            type: 'password',
            username: 'app',
            tags: '',
            secretInfo: secretInfoOf(secret),
            status: 'active',
            currentVersion: 1,
            lastVersion: 1,
            rowVersion: 1,
            createdBy: null,
          });
        }
        await manager.insert(Credential, rows);
        for (let i = 0; i < rows.length; i++) {
          await versions.addFirst(manager, { id: rows[i].id!, type: 'password' }, secrets[i], null);
        }
      });
    });
    await app.get(PatternPolicyService).put(
      {
        pathPattern: BENCH_PATTERN,
        enabled: true,
        interval: 'P30D',
        gracePeriod: 'PT1H',
        rotator: { kind: 'generated' },
        generator: null,
      },
      { type: 'service', id: randomUUID(), name: 'bench' },
    );
    const [{ scheduled }] = await app
      .get(DataSource)
      .query<{ scheduled: number }[]>(
        "SELECT COUNT(*) AS scheduled FROM credentials WHERE rotation_status = 'scheduled' " +
          'AND next_rotation_at IS NOT NULL',
      );
    if (Number(scheduled) !== count) {
      throw new Error(`seeded ${count} credentials, but ${scheduled} are scheduled`);
    }
    process.stdout.write(`seeded ${count}\n`);
  } finally {
    await app.close();
  }
}

runCliMain(() => main().then(() => 0));
