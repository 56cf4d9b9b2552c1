import { createConnection, Connection } from 'mysql2/promise';
import { DataSource, EntityManager } from 'typeorm';
import { AuditVerificationService } from '../src/audit/audit-verification.service';
import { AuditWriter } from '../src/audit/audit-writer';
import { DatabaseBusyError } from '../src/common/errors/database-errors';
import { loadDatabaseConfig } from '../src/config/database.config';
import { ScratchDatabase } from '../src/database/cli/scratch-database';
import { DirectSql } from '../src/database/direct-sql';
import { LeaseService } from '../src/database/lease.service';
import { TransactionRunner } from '../src/database/transaction-runner';
import { TcpRelay } from './faults/helpers/tcp-relay';
import { createCredential } from './helpers/credential-fixtures';
import { bearerFor, scratchMariadb, startApp, TestApp } from './helpers/test-app';

/**
 * Conflicting transactions on real MariaDB: real deadlocks and real lock waits through the real
 * TransactionRunner, then the HTTP answers when retrying does not help and when the database is
 * away. (On Galera a certification conflict arrives as the same deadlock error, at COMMIT.)
 */
describe('Transaction retry (MariaDB)', () => {
  let database: ScratchDatabase;
  let sut: TestApp;
  let dataSource: DataSource;
  let admin: Record<string, string>;

  beforeAll(async () => {
    database = await scratchMariadb();
    sut = await startApp(database, {
      env: {
        // Row locks are given up after one second, and one re-run follows, so that a request
        // held behind a lock the test keeps answers within a few seconds.
        TEST_DB_SESSION_VARIABLES: 'innodb_lock_wait_timeout=1',
        DB_RETRY_ATTEMPTS: '1',
        DB_RETRY_BASE_MS: '10',
      },
    });
    dataSource = sut.app.get(DataSource);
    admin = { authorization: await bearerFor(sut, 'admin') };
    await dataSource.query('CREATE TABLE retry_probe (id INT PRIMARY KEY, n INT NOT NULL)');
  });

  afterAll(async () => {
    await sut?.close();
    await database?.drop();
  });

  /** A runner on the app's pool with its own DB_RETRY_ATTEMPTS. */
  function runnerWith(attempts: number): TransactionRunner {
    const config = loadDatabaseConfig({
      DATABASE_URL: database.url,
      DB_RETRY_ATTEMPTS: String(attempts),
      DB_RETRY_BASE_MS: '5',
    });
    return new TransactionRunner(dataSource, config);
  }

  /**
   * Two units of work that update rows 1 and 2 in opposite orders. On their first attempts each
   * waits, holding its first row, until the other holds its own: the second updates then meet in
   * a real deadlock, and InnoDB rolls one back. Later attempts go straight through. Each unit
   * also writes an audit event, so a re-run must re-chain it.
   */
  async function opposingUnits(runner: TransactionRunner) {
    await dataSource.query('DELETE FROM retry_probe');
    await dataSource.query('INSERT INTO retry_probe (id, n) VALUES (1, 0), (2, 0)');
    const audit = sut.app.get(AuditWriter);
    let attempts = 0;
    let arrived = 0;
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const unit = (first: number, second: number, label: string) =>
      runner.run(async (manager) => {
        attempts++;
        await manager.query('UPDATE retry_probe SET n = n + 1 WHERE id = ?', [first]);
        if (++arrived === 2) open();
        await gate;
        await manager.query('UPDATE retry_probe SET n = n + 1 WHERE id = ?', [second]);
        await audit.record(
          { action: 'test.retry', outcome: 'success', resourceType: 'probe', resourceId: label },
          manager,
        );
        return label;
      });
    const settled = await Promise.allSettled([unit(1, 2, 'a'), unit(2, 1, 'b')]);
    const rows = await dataSource.query<{ id: number; n: number }[]>(
      'SELECT id, n FROM retry_probe ORDER BY id',
    );
    return { settled, attempts, counts: rows.map((row) => Number(row.n)) };
  }

  it('should run the loser of a real deadlock again, so both units complete once, and keep the audit chain whole', async () => {
    const runner = runnerWith(4);
    const before = await auditEventsOf('test.retry');

    const { settled, attempts, counts } = await opposingUnits(runner);

    expect(settled).toEqual([
      { status: 'fulfilled', value: 'a' },
      { status: 'fulfilled', value: 'b' },
    ]);
    expect(attempts).toBe(3);
    // Each unit's two increments counted once: the rolled-back attempt left nothing behind.
    expect(counts).toEqual([2, 2]);
    expect(runner.retries.get('deadlock')).toBe(1);
    expect((await auditEventsOf('test.retry')) - before).toBe(2);
    expect(await sut.app.get(AuditVerificationService).verify()).toMatchObject({ ok: true });
  });

  it('should fail one of the two with DatabaseBusyError when DB_RETRY_ATTEMPTS=0', async () => {
    const { settled, attempts, counts } = await opposingUnits(runnerWith(0));

    const failed = settled.filter((result) => result.status === 'rejected');
    expect(failed).toHaveLength(1);
    expect(failed[0].reason).toBeInstanceOf(DatabaseBusyError);
    expect(failed[0].reason).toMatchObject({ reason: 'deadlock' });
    expect(attempts).toBe(2);
    expect(counts).toEqual([1, 1]);
    expect(await sut.app.get(AuditVerificationService).verify()).toMatchObject({ ok: true });
  });

  it('should answer 503 with Retry-After, change nothing, and say so, when a row stays locked through every retry', async () => {
    const credential = await createCredential(sut, admin, { path: 'retry/locked' });
    const holder = await rawConnection();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT id FROM credentials WHERE id = ? FOR UPDATE', [credential.id]);

      const started = Date.now();
      const response = await sut.http
        .patch(`/api/v1/credentials/${credential.id}`)
        .set(admin)
        .send({ description: 'never applied' });

      expect(response.status).toBe(503);
      expect(response.headers['retry-after']).toBe('1');
      expect(response.body).toMatchObject({
        statusCode: 503,
        error: 'Service Unavailable',
        message:
          'The database is busy with conflicting changes; nothing was changed, retry shortly',
      });
      expect(JSON.stringify(response.body)).not.toMatch(/lock wait|credentials|SELECT|UPDATE/i);
      // Two attempts, each given up after the one-second lock wait.
      expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }
    const after = await sut.http.get(`/api/v1/credentials/${credential.id}`).set(admin).expect(200);
    expect(after.body).not.toMatchObject({ description: 'never applied' });
    await sut.http
      .patch(`/api/v1/credentials/${credential.id}`)
      .set(admin)
      .send({ description: 'applied' })
      .expect(200);
  });

  it('should answer "not acquired" for a lease whose row another writer holds, not an error', async () => {
    const holder = new LeaseService(dataSource);
    const other = new LeaseService(dataSource);
    expect(await holder.acquire('retry-lease', 1)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const locker = await rawConnection();
    try {
      // The expired lease is up for grabs, but its row is locked: the UPDATE gives up after the
      // lock wait, as a write lost to another Galera node fails its certification.
      await locker.query('BEGIN');
      await locker.query("SELECT name FROM leases WHERE name = 'retry-lease' FOR UPDATE");
      await expect(other.acquire('retry-lease', 60_000)).resolves.toBe(false);
    } finally {
      await locker.query('ROLLBACK');
      await locker.end();
    }
    expect(await other.acquire('retry-lease', 60_000)).toBe(true);
  });

  it('should refuse a database call made from inside a unit of work, which could deadlock a full pool, and roll the unit back', async () => {
    const runner = sut.app.get(TransactionRunner);
    const direct = sut.app.get(DirectSql);
    await dataSource.query('DELETE FROM retry_probe');
    const inside: Array<(manager: EntityManager) => Promise<unknown>> = [
      () => runner.read((inner) => inner.query('SELECT 1')),
      () => runner.alone((inner) => inner.query('SELECT 1')),
      () => runner.run((inner) => inner.query('SELECT 1')),
      () => direct.select('SELECT 1', []),
    ];

    for (const call of inside) {
      const outer = runner.run(async (manager) => {
        await manager.query('INSERT INTO retry_probe (id, n) VALUES (9, 9)');
        await call(manager);
      });
      await expect(outer).rejects.toThrow(/second connection while holding its own/);
    }

    expect(await dataSource.query('SELECT id FROM retry_probe')).toEqual([]);
    // Outside a unit, and after one has ended, the same calls go through.
    await runner.run((manager) => manager.query('SELECT 1'));
    await expect(direct.select('SELECT 1 AS one', [])).resolves.toEqual([{ one: 1 }]);
  });

  it('should count the retries by reason on /metrics', async () => {
    const metrics = await sut.http.get('/metrics').expect(200);
    expect(metrics.text).toMatch(
      /custos_db_transaction_retries_total\{reason="lock_wait_timeout"\} [1-9]/,
    );
    expect(metrics.text).toContain('custos_db_transaction_retries_total{reason="deadlock"}');
  });

  describe('with the database away', () => {
    let relay: TcpRelay;
    let away: TestApp;
    let awayAdmin: Record<string, string>;

    beforeAll(async () => {
      relay = await TcpRelay.start();
      away = await startApp(
        { ...database, url: relay.rewrite(database.url!) },
        { env: { CUSTOS_MASTER_KEY: sut.env.CUSTOS_MASTER_KEY } },
      );
      awayAdmin = { authorization: await bearerFor(away, 'admin') };
    });

    afterAll(async () => {
      relay.restore();
      await away?.close();
      await relay?.close();
    });

    it('should run a unit again on a new connection when its connection broke before COMMIT', async () => {
      const awayData = away.app.get(DataSource);
      const runner = new TransactionRunner(
        awayData,
        loadDatabaseConfig({ DATABASE_URL: database.url, DB_RETRY_ATTEMPTS: '4' }),
      );
      await dataSource.query('DELETE FROM retry_probe');
      let attempts = 0;
      const result = await runner.run(async (manager) => {
        attempts++;
        await manager.query('INSERT INTO retry_probe (id, n) VALUES (7, ?)', [attempts]);
        if (attempts === 1) {
          // Every connection through the relay is reset under the open transaction.
          relay.cut();
          relay.restore();
        }
        await manager.query('UPDATE retry_probe SET n = n * 10 WHERE id = 7');
        return attempts;
      });
      expect(result).toBe(2);
      expect(runner.retries.get('connection_lost')).toBe(1);
      // The first attempt's insert died with its connection: one row, from the second attempt.
      expect(await dataSource.query('SELECT id, n FROM retry_probe')).toEqual([{ id: 7, n: 20 }]);
    });

    it('should answer readiness and requests with 503 and Retry-After, not 500, and recover after', async () => {
      await away.http.get('/api/v1/credentials').set(awayAdmin).expect(200);
      relay.cut();
      try {
        const ready = await away.http.get('/api/v1/health/ready');
        expect(ready.status).toBe(503);
        for (const request of [
          away.http.get('/api/v1/credentials').set(awayAdmin),
          away.http
            .post('/api/v1/credentials')
            .set(awayAdmin)
            .send({
              path: 'retry/away',
              name: 'away',
              type: 'password',
              secret: { password: 'never-stored-pw' },
            }),
        ]) {
          const response = await request;
          expect({ status: response.status, body: response.body as unknown }).toMatchObject({
            status: 503,
            body: { statusCode: 503, error: 'Service Unavailable' },
          });
          expect(response.headers['retry-after']).toBe('1');
          expect(JSON.stringify(response.body)).not.toMatch(/ECONN|127\.0\.0\.1|never-stored/);
        }
      } finally {
        relay.restore();
      }
      await waitFor(async () => (await away.http.get('/api/v1/health/ready')).status === 200);
      await away.http.get('/api/v1/credentials').set(awayAdmin).expect(200);
    });
  });

  async function auditEventsOf(action: string): Promise<number> {
    const [row] = await dataSource.query<{ count: string }[]>(
      'SELECT COUNT(*) AS count FROM audit_events WHERE action = ?',
      [action],
    );
    return Number(row.count);
  }

  function rawConnection(): Promise<Connection> {
    return createConnection(database.url!);
  }
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
