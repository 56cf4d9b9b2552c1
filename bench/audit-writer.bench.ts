import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AuditWriter } from '../src/audit/audit-writer';
import { createScratchMariadb } from '../src/database/cli/scratch-database';
import { TransactionRunner } from '../src/database/transaction-runner';
import { createApp } from '../src/http/create-app';

const DURATION_MS = Number(process.env.BENCH_DURATION ?? 10) * 1000;
const WORKERS = Number(process.env.BENCH_CONNECTIONS ?? 32);

/**
 * The audit design against the database itself, without HTTP: transactions per second that
 * insert one row, with and without an audit event chained into the same transaction.
 */
export async function benchAuditWriter(): Promise<Record<string, number>> {
  const results: Record<string, number> = {};
  for (const lanes of [1, 8, 32]) {
    const database = await createScratchMariadb();
    Object.assign(process.env, {
      DATABASE_URL: database.url,
      CUSTOS_MASTER_KEY: randomBytes(32).toString('base64'),
      AUDIT_LANES: String(lanes),
      AUDIT_SINKS: 'none',
      LOG_LEVEL: 'error',
      DB_POOL_SIZE: String(WORKERS),
    });
    const app = await createApp();
    await app.init();
    try {
      const transactions = app.get(TransactionRunner);
      const writer = app.get(AuditWriter);
      await app
        .get(DataSource)
        .query(
          'CREATE TABLE bench_rows (id bigint AUTO_INCREMENT PRIMARY KEY, v varchar(64)) ENGINE=InnoDB',
        );
      const insertRow = (manager: Parameters<Parameters<TransactionRunner['run']>[0]>[0]) =>
        manager.query('INSERT INTO bench_rows (v) VALUES (?)', ['x']);
      if (lanes === 1) {
        results['plain tx/s (insert, no audit)'] = await rate(() => transactions.run(insertRow));
      }
      results[`audited tx/s (insert + event), ${lanes} lane(s)`] = await rate(() =>
        transactions.run(async (manager) => {
          await insertRow(manager);
          await writer.record(
            { action: 'bench.write', outcome: 'success', details: { n: 1 } },
            manager,
          );
        }),
      );
    } finally {
      await app.close();
      await database.drop();
    }
  }
  return results;
}

async function rate(work: () => Promise<unknown>): Promise<number> {
  let done = 0;
  const end = Date.now() + DURATION_MS;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: WORKERS }, async () => {
      while (Date.now() < end) {
        await work();
        done++;
      }
    }),
  );
  return Math.round((done / (Date.now() - started)) * 1000);
}
