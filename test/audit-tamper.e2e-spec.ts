import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { DataSource } from 'typeorm';
import { AuditCheckpointer } from '../src/audit/audit-checkpointer';
import { AuditVerificationService } from '../src/audit/audit-verification.service';
import { ScratchDatabase } from '../src/database/cli/scratch-database';
import { EventRow, openDirect } from './helpers/audit-db';
import { ensureBuilt, MAIN } from './helpers/spawned-app';
import { bearerFor, scratchMariadb, startApp, TestApp } from './helpers/test-app';

const run = promisify(execFile);

interface Verify {
  ok: boolean;
  verified: number;
  headSeq: string | null;
  firstBadSeq?: string;
  reason?: string;
}

/** Tampering straight in the database (triggers dropped first) must be found by verify. */
describe('Audit tamper evidence (MariaDB)', () => {
  let database: ScratchDatabase;
  let db: DataSource;
  let sut: TestApp;
  let auditor: string;

  // The service itself, so that verifying writes no event of its own while the log is tampered.
  const verify = (): Promise<Verify> => sut.app.get(AuditVerificationService).verify();
  const rows = (): Promise<EventRow[]> =>
    db.query('SELECT * FROM audit_events ORDER BY lane, lane_seq');
  /** A lane with at least three events, and its events in chain order. */
  const busyLane = async (): Promise<EventRow[]> => {
    const all = await rows();
    const byLane = new Map<number, EventRow[]>();
    for (const row of all) byLane.set(row.lane, [...(byLane.get(row.lane) ?? []), row]);
    return [...byLane.values()].find((lane) => lane.length >= 3)!;
  };

  beforeAll(async () => {
    database = await scratchMariadb();
    sut = await startApp(database, { env: { AUDIT_LANES: '2', AUDIT_SINKS: 'none' } });
    db = await openDirect(database);
    for (let i = 0; i < 20; i++) await sut.http.get(`/api/v1/nothing/${i}`).expect(404);
    auditor = await bearerFor(sut, 'auditor');
    await sut.http.get('/api/v1/audit/events').set('authorization', auditor).expect(200);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await sut.app.get(AuditCheckpointer).checkpoint();
  });

  afterAll(async () => {
    await sut?.close();
    await db?.destroy();
    await database?.drop();
  });

  it('should refuse UPDATE and DELETE on the events table', async () => {
    await expect(db.query("UPDATE audit_events SET action = 'x' WHERE seq = 1")).rejects.toThrow(
      /append-only/,
    );
    await expect(db.query('DELETE FROM audit_events WHERE seq = 1')).rejects.toThrow(/append-only/);
    await expect(db.query('DELETE FROM audit_checkpoints')).rejects.toThrow(/append-only/);
  });

  it('should refuse deleting a lane head or moving it back', async () => {
    await expect(db.query('DELETE FROM audit_chain_heads WHERE lane = 0')).rejects.toThrow(
      /cannot be deleted/,
    );
    await expect(
      db.query('UPDATE audit_chain_heads SET last_lane_seq = last_lane_seq - 1 WHERE lane = 0'),
    ).rejects.toThrow(/only move forward/);
    await expect(
      db.query("UPDATE audit_chain_heads SET last_hash = 'ff' WHERE lane = 0"),
    ).rejects.toThrow(/only move forward/);
    await expect(db.query('UPDATE audit_chain_heads SET lane = 9 WHERE lane = 0')).rejects.toThrow(
      /only move forward/,
    );
    expect(await verify()).toMatchObject({ ok: true });
  });

  it('should pass on an honest log', async () => {
    const result = (
      await sut.http.post('/api/v1/audit/verify').set('authorization', auditor).expect(200)
    ).body as Verify;
    expect(result).toMatchObject({ ok: true });
    expect(result.verified).toBeGreaterThanOrEqual(21);
    expect(result.firstBadSeq).toBeUndefined();
  });

  it('should pass from the command line too', async () => {
    ensureBuilt();
    const { stdout } = await run(
      process.execPath,
      [MAIN.replace('main.js', 'audit/cli/audit-verify.js')],
      {
        env: { PATH: process.env.PATH, ...sut.env },
      },
    );
    expect(JSON.parse(stdout)).toMatchObject({ ok: true });
  });

  describe('with the triggers dropped', () => {
    beforeAll(async () => {
      await db.query('DROP TRIGGER audit_events_no_update');
      await db.query('DROP TRIGGER audit_events_no_delete');
      await db.query('DROP TRIGGER audit_chain_heads_no_rewind');
      await db.query('DROP TRIGGER audit_chain_heads_no_delete');
    });

    /** Runs `tamper` on the head row of `lane`, verifies, and puts the row back. */
    const withHead = async (lane: number, tamper: () => Promise<unknown>): Promise<Verify> => {
      const [head] = await db.query<Record<string, unknown>[]>(
        'SELECT * FROM audit_chain_heads WHERE lane = ?',
        [lane],
      );
      await tamper();
      const result = await verify();
      await db.query('DELETE FROM audit_chain_heads WHERE lane = ?', [lane]);
      await db.query(
        'INSERT INTO audit_chain_heads (lane, last_lane_seq, last_seq, last_hash) VALUES (?, ?, ?, ?)',
        [lane, head.last_lane_seq, head.last_seq, head.last_hash],
      );
      return result;
    };

    it('should find a head moved back over events still in the chain', async () => {
      const lane = await busyLane();
      const last = lane[lane.length - 1];
      const previous = lane[lane.length - 2];

      const result = await withHead(last.lane, () =>
        db.query(
          'UPDATE audit_chain_heads SET last_lane_seq = ?, last_seq = ?, last_hash = ? WHERE lane = ?',
          [previous.lane_seq, previous.seq, previous.hash, last.lane],
        ),
      );

      expect(result).toMatchObject({ ok: false, firstBadSeq: String(last.seq) });
      expect(result.reason).toMatch(/beyond its head/);
      expect(await verify()).toMatchObject({ ok: true });
    });

    it('should find a head that names another event than the last one', async () => {
      const lane = await busyLane();
      const last = lane[lane.length - 1];

      const result = await withHead(last.lane, () =>
        db.query('UPDATE audit_chain_heads SET last_hash = ? WHERE lane = ?', [
          'e'.repeat(64),
          last.lane,
        ]),
      );

      expect(result).toMatchObject({ ok: false, firstBadSeq: String(last.seq) });
      expect(result.reason).toMatch(/head was changed/);
    });

    it('should find a deleted head row', async () => {
      const lane = await busyLane();
      const last = lane[lane.length - 1];

      const result = await withHead(last.lane, () =>
        db.query('DELETE FROM audit_chain_heads WHERE lane = ?', [last.lane]),
      );

      expect(result).toMatchObject({ ok: false, firstBadSeq: String(last.seq) });
      expect(result.reason).toMatch(/no head row/);
      expect(await verify()).toMatchObject({ ok: true });
    });

    it('should find a changed event at its seq', async () => {
      const [, target] = await busyLane();
      await db.query("UPDATE audit_events SET action = 'credential.read' WHERE seq = ?", [
        target.seq,
      ]);
      const result = await verify();
      await db.query('UPDATE audit_events SET action = ? WHERE seq = ?', [
        target.action,
        target.seq,
      ]);
      expect(result).toMatchObject({ ok: false, firstBadSeq: String(target.seq) });
      expect(result.reason).toMatch(/changed/);
      expect(await verify()).toMatchObject({ ok: true });
    });

    it('should find changed details and a changed time', async () => {
      const [target] = await busyLane();
      await db.query("UPDATE audit_events SET details = '{}' WHERE seq = ?", [target.seq]);
      expect(await verify()).toMatchObject({ ok: false, firstBadSeq: String(target.seq) });
      await db.query('UPDATE audit_events SET details = ? WHERE seq = ?', [
        target.details,
        target.seq,
      ]);
      await db.query(
        'UPDATE audit_events SET occurred_at = occurred_at - INTERVAL 1 SECOND WHERE seq = ?',
        [target.seq],
      );
      expect(await verify()).toMatchObject({ ok: false, firstBadSeq: String(target.seq) });
      await db.query(
        'UPDATE audit_events SET occurred_at = occurred_at + INTERVAL 1 SECOND WHERE seq = ?',
        [target.seq],
      );
      expect(await verify()).toMatchObject({ ok: true });
    });

    it('should find a deleted event at the event after it', async () => {
      const [, deleted, next] = await busyLane();
      const [full] = await db.query<Record<string, unknown>[]>(
        'SELECT * FROM audit_events WHERE seq = ?',
        [deleted.seq],
      );
      await db.query('DELETE FROM audit_events WHERE seq = ?', [deleted.seq]);
      const result = await verify();
      await reinsert(db, full);
      expect(result).toMatchObject({ ok: false, firstBadSeq: String(next.seq) });
      expect(result.reason).toMatch(/missing/);
      expect(await verify()).toMatchObject({ ok: true });
    });

    it('should find an inserted event', async () => {
      const lane = await busyLane();
      const last = lane[lane.length - 1];
      const [full] = await db.query<Record<string, unknown>[]>(
        'SELECT * FROM audit_events WHERE seq = ?',
        [last.seq],
      );
      const forged = {
        ...full,
        seq: 1_000_000,
        lane_seq: Number(last.lane_seq) + 1,
        prev_hash: last.hash,
        action: 'credential.reveal',
        hash: 'f'.repeat(64),
      };
      await reinsert(db, forged);
      const result = await verify();
      await db.query('DELETE FROM audit_events WHERE seq = 1000000');
      expect(result).toMatchObject({ ok: false, firstBadSeq: '1000000' });
      expect(await verify()).toMatchObject({ ok: true });
    });

    it('should find two events swapped in order', async () => {
      const [first, second] = await busyLane();
      await db.query('UPDATE audit_events SET lane_seq = -1 WHERE seq = ?', [first.seq]);
      await db.query('UPDATE audit_events SET lane_seq = ? WHERE seq = ?', [
        first.lane_seq,
        second.seq,
      ]);
      await db.query('UPDATE audit_events SET lane_seq = ? WHERE seq = ?', [
        second.lane_seq,
        first.seq,
      ]);
      const result = await verify();
      await db.query('UPDATE audit_events SET lane_seq = -1 WHERE seq = ?', [second.seq]);
      await db.query('UPDATE audit_events SET lane_seq = ? WHERE seq = ?', [
        first.lane_seq,
        first.seq,
      ]);
      await db.query('UPDATE audit_events SET lane_seq = ? WHERE seq = ?', [
        second.lane_seq,
        second.seq,
      ]);
      expect(result.ok).toBe(false);
      expect([String(first.seq), String(second.seq)]).toContain(result.firstBadSeq);
      expect(await verify()).toMatchObject({ ok: true });
    });

    it('should find a renumbered head event by the signed checkpoint', async () => {
      await sut.app.get(AuditCheckpointer).checkpoint();
      const lane = await busyLane();
      const last = lane[lane.length - 1];
      await db.query('UPDATE audit_events SET seq = 900000 WHERE seq = ?', [last.seq]);
      const result = await verify();
      await db.query('UPDATE audit_events SET seq = ? WHERE seq = 900000', [last.seq]);
      expect(result.ok).toBe(false);
      expect(result.reason).toMatch(/differs from what checkpoint .* signed/);
      expect(await verify()).toMatchObject({ ok: true });
    });

    it('should find a cut-off tail even when the head row is rewound, by the signed checkpoint', async () => {
      // Only what a checkpoint has seen can be missed later: take one now.
      await sut.app.get(AuditCheckpointer).checkpoint();
      const lane = await busyLane();
      const last = lane[lane.length - 1];
      const previous = lane[lane.length - 2];
      const [full] = await db.query<Record<string, unknown>[]>(
        'SELECT * FROM audit_events WHERE seq = ?',
        [last.seq],
      );
      const [head] = await db.query<Record<string, unknown>[]>(
        'SELECT * FROM audit_chain_heads WHERE lane = ?',
        [last.lane],
      );
      await db.query('DELETE FROM audit_events WHERE seq = ?', [last.seq]);
      await db.query(
        'UPDATE audit_chain_heads SET last_lane_seq = ?, last_seq = ?, last_hash = ? WHERE lane = ?',
        [previous.lane_seq, previous.seq, previous.hash, last.lane],
      );
      const result = await verify();
      await reinsert(db, full);
      await db.query(
        'UPDATE audit_chain_heads SET last_lane_seq = ?, last_seq = ?, last_hash = ? WHERE lane = ?',
        [head.last_lane_seq, head.last_seq, head.last_hash, last.lane],
      );
      expect(result.ok).toBe(false);
      expect(result.reason).toMatch(/checkpoint .* removed/);
      expect(await verify()).toMatchObject({ ok: true });
    });
  });
});

async function reinsert(db: DataSource, row: Record<string, unknown>): Promise<void> {
  const columns = Object.keys(row);
  await db.query(
    `INSERT INTO audit_events (${columns.map((c) => `\`${c}\``).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,
    columns.map((c) => row[c]),
  );
}
