import { createConnection, RowDataPacket } from 'mysql2/promise';
import { DataSource } from 'typeorm';
import { AuditCommittedSeq } from '../src/audit/audit-committed-seq';
import { AuditEventInput } from '../src/audit/audit-context';
import { AuditWriter } from '../src/audit/audit-writer';
import { ScratchDatabase } from '../src/database/cli/scratch-database';
import { TransactionRunner } from '../src/database/transaction-runner';
import { BRUTE_FORCE } from '../src/incidents/detectors/audit-log-detectors';
import { DetectorCursorStore } from '../src/incidents/detectors/detector-cursor.store';
import { DetectorEventsQuery } from '../src/incidents/detectors/detector-events.query';
import { DetectorRunner } from '../src/incidents/detectors/detector-runner';
import { openDirect } from './helpers/audit-db';
import { until } from './helpers/rotation-checks';
import { scratchMariadb, startApp, TestApp } from './helpers/test-app';

const failedLogin = (email: string): AuditEventInput => ({
  action: 'auth.login.failed',
  outcome: 'denied',
  details: { email },
});

/**
 * Audit seqs are handed out at INSERT, so an event of a transaction still open can commit after
 * events numbered above it. A detector's cursor must wait for it rather than pass it for good,
 * however long that transaction stays open (here far past the settle window, which is zero).
 */
describe('Detector cursor under concurrent audit writers (MariaDB)', () => {
  let database: ScratchDatabase;
  let db: DataSource;
  let sut: TestApp;

  beforeAll(async () => {
    database = await scratchMariadb();
    sut = await startApp(database, {
      env: { DETECTORS_ENABLED: 'false', DETECTORS_SETTLE: 'PT0S', AUDIT_LANES: '4' },
    });
    db = await openDirect(database);
  });

  afterAll(async () => {
    await sut?.close();
    await db?.destroy();
    await database?.drop();
  });

  it('should not move past an event whose transaction is still open, and read it once it commits', async () => {
    const writer = sut.app.get(AuditWriter);
    const transactions = sut.app.get(TransactionRunner);
    const events = sut.app.get(DetectorEventsQuery);
    const detectors = sut.app.get(DetectorRunner);
    const cursors = sut.app.get(DetectorCursorStore);
    const seqs = async () =>
      (await events.after(BRUTE_FORCE.actions, '0', 0, 1000)).map((event) => BigInt(event.seq));

    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let numbered!: (seq: string) => void;
    const heldSeq = new Promise<string>((resolve) => (numbered = resolve));
    const held = transactions.run(async (manager) => {
      const [seq] = await writer.recordAll([failedLogin('held@example.com')], manager);
      numbered(seq);
      await gate;
    });
    const seq = BigInt(await heldSeq);
    // Later transactions, each on a lane of its own choosing: those that meet the held lane wait
    // for it, the others commit events numbered above the held one.
    const later = Array.from({ length: 8 }, (_, n) =>
      transactions.run((manager) =>
        writer.recordAll([failedLogin(`later-${n}@example.com`)], manager),
      ),
    );
    try {
      await until(async () => {
        const [row] = await db.query<{ n: string | number }[]>(
          "SELECT COUNT(*) AS n FROM audit_events WHERE action = 'auth.login.failed' AND seq > ?",
          [String(seq)],
        );
        return Number(row.n) > 0 || undefined;
      });

      expect((await seqs()).filter((s) => s >= seq)).toEqual([]);
      await detectors.runLogDetector(BRUTE_FORCE);
      expect(BigInt((await cursors.read('brute_force')).lastSeq)).toBeLessThan(seq);
    } finally {
      release();
      await held;
      await Promise.all(later);
    }

    const committed = await seqs();
    expect(committed).toContain(seq);
    expect(committed.filter((s) => s > seq)).toHaveLength(8);
    await detectors.runLogDetector(BRUTE_FORCE);
    expect(BigInt((await cursors.read('brute_force')).lastSeq)).toBe(
      committed[committed.length - 1],
    );
  });

  it("should bound by the committed last seq of a lane whose head a writer holds, and by the newest event when none does", async () => {
    const committed = sut.app.get(AuditCommittedSeq);
    const [newest] = await db.query<{ maxSeq: string | number }[]>(
      'SELECT MAX(seq) AS maxSeq FROM audit_events',
    );
    expect(await committed.bound()).toBe(String(newest.maxSeq));

    const writer = await createConnection(database.url!);
    try {
      await writer.query('BEGIN');
      const [heads] = await writer.query<RowDataPacket[]>(
        'SELECT last_seq AS lastSeq FROM audit_chain_heads WHERE lane = 1 FOR UPDATE',
      );
      const held = heads[0] as { lastSeq: string | number | null };
      expect(await committed.bound()).toBe(String(held.lastSeq ?? 0));
    } finally {
      await writer.query('ROLLBACK');
      await writer.end();
    }
    expect(await committed.bound()).toBe(String(newest.maxSeq));
  });
});
