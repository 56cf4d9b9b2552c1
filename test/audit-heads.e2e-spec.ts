import { DataSource } from 'typeorm';
import { AuditCheckpointer } from '../src/audit/audit-checkpointer';
import { SYSTEM } from '../src/audit/audit-context';
import { AuditWriter } from '../src/audit/audit-writer';
import { AuditVerificationService } from '../src/audit/audit-verification.service';
import { createScratchSqlite, ScratchDatabase } from '../src/database/cli/scratch-database';
import { EventRow, openDirect } from './helpers/audit-db';
import { AuditProbeAppModule } from './helpers/audit-probe';
import { bearerFor, scratchMariadb, startApp, TestApp } from './helpers/test-app';

interface Head {
  lane: number;
  last_lane_seq: string;
  last_seq: string | null;
  last_hash: string | null;
}

/** Far below the 50 s lock wait a missing head used to cost every audited request. */
const QUICK_MS = 5000;

/**
 * A lane head can only move forward, and one deleted anyway (triggers dropped) comes back at
 * the next write, from the lane's last event, without any request waiting on a lock.
 */
describe('Audit lane heads (MariaDB)', () => {
  let database: ScratchDatabase;
  let db: DataSource;
  let sut: TestApp;
  let viewer: string;

  const verify = () => sut.app.get(AuditVerificationService).verify();
  const head = async (): Promise<Head | undefined> =>
    (await db.query<Head[]>('SELECT * FROM audit_chain_heads WHERE lane = 0'))[0];
  const lastEvent = async (): Promise<EventRow> =>
    (
      await db.query<EventRow[]>(
        'SELECT * FROM audit_events WHERE lane = 0 ORDER BY lane_seq DESC LIMIT 1',
      )
    )[0];
  /** One lane, so every write meets the deleted head. */
  const deleteHead = () => db.query('DELETE FROM audit_chain_heads WHERE lane = 0');
  const timed = async <T>(work: () => Promise<T>): Promise<{ result: T; ms: number }> => {
    const started = Date.now();
    const result = await work();
    return { result, ms: Date.now() - started };
  };

  beforeAll(async () => {
    database = await scratchMariadb();
    sut = await startApp(database, {
      rootModule: AuditProbeAppModule,
      env: {
        AUDIT_LANES: '1',
        AUDIT_SINKS: 'none',
        THROTTLE_LIMIT: '100000',
        // These tests delete lane heads on purpose: the tamper detector would rightly open an
        // incident, whose event would land among the ones counted here.
        DETECT_AUDIT_TAMPER_ENABLED: 'false',
      },
    });
    db = await openDirect(database);
    await db.query('CREATE TABLE probe_items (name varchar(64) PRIMARY KEY) ENGINE=InnoDB');
    viewer = await bearerFor(sut, 'viewer');
    for (let i = 0; i < 5; i++) {
      await sut.http.get('/api/v1/auth/me').set('authorization', viewer).expect(200);
    }
  });

  afterAll(async () => {
    await sut?.close();
    await db?.destroy();
    await database?.drop();
  });

  it('should refuse deleting a head, moving it back or rewriting it in place', async () => {
    const before = await head();
    await expect(deleteHead()).rejects.toThrow(/audit_chain_heads rows cannot be deleted/);
    await expect(
      db.query('UPDATE audit_chain_heads SET last_lane_seq = 0, last_seq = NULL, last_hash = NULL'),
    ).rejects.toThrow(/only move forward/);
    await expect(db.query('UPDATE audit_chain_heads SET last_seq = last_seq + 1')).rejects.toThrow(
      /only move forward/,
    );
    expect(await head()).toEqual(before);
    expect(await verify()).toMatchObject({ ok: true });
  });

  describe('with the delete trigger dropped', () => {
    beforeAll(async () => {
      await db.query('DROP TRIGGER audit_chain_heads_no_delete');
    });

    it('should report a deleted head until the next write brings it back', async () => {
      const tail = await lastEvent();
      await deleteHead();

      const before = await verify();
      expect(before).toMatchObject({ ok: false, firstBadSeq: String(tail.seq) });
      expect(before.reason).toMatch(/no head row: the head was deleted/);

      const { result: response, ms } = await timed(() =>
        sut.http.get('/api/v1/auth/me').set('authorization', viewer),
      );

      expect(response.status).toBe(200);
      expect(ms).toBeLessThan(QUICK_MS);
      const [recreated, request] = await db.query<EventRow[]>(
        'SELECT * FROM audit_events WHERE lane = 0 AND lane_seq > ? ORDER BY lane_seq',
        [tail.lane_seq],
      );
      // The lane goes on from its last event, and says that its head was re-created.
      expect(recreated).toMatchObject({
        action: 'audit.head.recreated',
        lane_seq: String(BigInt(tail.lane_seq) + 1n),
        prev_hash: tail.hash,
        resource_type: 'audit_lane',
        resource_id: '0',
      });
      expect(JSON.parse(recreated.details)).toMatchObject({
        lane: 0,
        laneSeq: String(tail.lane_seq),
      });
      expect(request).toMatchObject({ action: 'auth.me', prev_hash: recreated.hash });
      expect(await head()).toMatchObject({
        last_seq: String(request.seq),
        last_hash: request.hash,
      });
      expect(await verify()).toMatchObject({ ok: true });
    });

    it('should re-create it for a write in its own transaction too', async () => {
      await deleteHead();

      const { result: response, ms } = await timed(() =>
        sut.http.post('/api/v1/probe/items').send({ name: 'after-head-loss' }),
      );

      expect(response.status).toBe(201);
      expect(ms).toBeLessThan(QUICK_MS);
      const last = await lastEvent();
      expect(last).toMatchObject({ action: 'probe.item.create', resource_id: 'after-head-loss' });
      expect(await head()).toMatchObject({ last_seq: String(last.seq) });
      expect(await verify()).toMatchObject({ ok: true });
    });

    it('should let 20 concurrent requests through when they all find it missing', async () => {
      const tail = await lastEvent();
      await deleteHead();

      const { result: responses, ms } = await timed(() =>
        Promise.all(
          Array.from({ length: 20 }, () =>
            sut.http.get('/api/v1/auth/me').set('authorization', viewer),
          ),
        ),
      );

      expect(responses.map((r) => r.status)).toEqual(Array(20).fill(200));
      expect(ms).toBeLessThan(QUICK_MS);
      // Those that lost the race ran again once the winner had committed the head.
      const recreated = await db.query<EventRow[]>(
        "SELECT * FROM audit_events WHERE action = 'audit.head.recreated' AND seq > ?",
        [tail.seq],
      );
      expect(recreated).toHaveLength(1);
      expect(await verify()).toMatchObject({ ok: true });
    });

    it('should record every event of writers racing to re-create it', async () => {
      const writer = sut.app.get(AuditWriter);
      // Recorded at once, these start several group commits together.
      const burst = () =>
        Promise.all(
          Array.from({ length: 40 }, (_, i) =>
            writer.record({
              action: 'test.race',
              outcome: 'success',
              actor: SYSTEM,
              details: { i },
            }),
          ),
        );
      // Once with the head there, so the pool has a connection ready for each group and they
      // all reach the missing head at the same moment.
      await burst();
      const tail = await lastEvent();
      await deleteHead();
      // Until purged, the deleted row stays in the index and the first writer's locking read
      // locks it, queueing the others. Rebuilt, the table has a bare gap there, as it will
      // some time after a real deletion: each writer then locks the gap and all insert at once.
      await db.query('ALTER TABLE audit_chain_heads FORCE');

      const { ms } = await timed(burst);

      expect(ms).toBeLessThan(QUICK_MS);
      const written = await db.query<EventRow[]>(
        'SELECT * FROM audit_events WHERE seq > ? ORDER BY lane_seq',
        [tail.seq],
      );
      expect(written.map((e) => e.action).sort()).toEqual([
        'audit.head.recreated',
        ...Array(40).fill('test.race'),
      ]);
      expect(written[0].action).toBe('audit.head.recreated');
      expect(await verify()).toMatchObject({ ok: true });
    });

    it('should still catch a tail cut with the head deleted, by the signed checkpoint', async () => {
      await db.query('DROP TRIGGER audit_events_no_delete');
      await sut.app.get(AuditCheckpointer).checkpoint();
      const tail = await lastEvent();
      await db.query('DELETE FROM audit_events WHERE seq = ?', [tail.seq]);
      await deleteHead();

      // The next write re-creates the head at the event now last: only the checkpoint knows.
      await sut.http.get('/api/v1/auth/me').set('authorization', viewer).expect(200);

      const result = await verify();
      expect(result.ok).toBe(false);
      expect(result.reason).toMatch(
        new RegExp(
          `checkpoint \\d+ saw lane 0 at lane_seq ${tail.lane_seq}|differs from what checkpoint`,
        ),
      );
    });
  });
});

/** The same promises on the embedded SQLite database, where transactions queue on one connection. */
describe('Audit lane heads and verify (SQLite)', () => {
  let database: ScratchDatabase;
  let db: DataSource;
  let sut: TestApp;
  let viewer: string;
  const verify = () => sut.app.get(AuditVerificationService).verify();

  beforeAll(async () => {
    database = createScratchSqlite();
    sut = await startApp(database, {
      env: { AUDIT_LANES: '2', AUDIT_SINKS: 'none', THROTTLE_LIMIT: '100000' },
    });
    db = await openDirect(database);
    viewer = await bearerFor(sut, 'viewer');
  });

  afterAll(async () => {
    await sut?.close();
    await db?.destroy();
    await database?.drop();
  });

  it('should verify an honest log while requests are served, checkpoints included', async () => {
    const load = Promise.all(
      Array.from({ length: 40 }, () =>
        sut.http.get('/api/v1/auth/me').set('authorization', viewer).expect(200),
      ),
    );
    const during = await Promise.all([verify(), verify(), verify()]);
    await load;
    const checkpoint = await sut.app.get(AuditCheckpointer).checkpoint();

    expect(during.filter((result) => !result.ok)).toEqual([]);
    expect(checkpoint).toMatchObject({ algorithm: 'Ed25519' });
    expect(await verify()).toMatchObject({ ok: true });
  });

  it('should refuse deleting a head and moving it back', async () => {
    await expect(db.query('DELETE FROM audit_chain_heads')).rejects.toThrow(/cannot be deleted/);
    await expect(
      db.query('UPDATE audit_chain_heads SET last_lane_seq = last_lane_seq - 1'),
    ).rejects.toThrow(/only move forward/);
  });

  it('should re-create a deleted head at the next write and verify clean', async () => {
    await db.query('DROP TRIGGER audit_chain_heads_no_delete');
    await db.query('DELETE FROM audit_chain_heads');
    expect(await verify()).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/no head row/),
    });

    for (let i = 0; i < 20; i++) {
      await sut.http.get('/api/v1/auth/me').set('authorization', viewer).expect(200);
    }

    expect(await db.query('SELECT lane FROM audit_chain_heads ORDER BY lane')).toEqual([
      { lane: 0 },
      { lane: 1 },
    ]);
    expect(await verify()).toMatchObject({ ok: true });
  });
});
