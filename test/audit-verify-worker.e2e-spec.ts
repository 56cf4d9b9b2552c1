import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { HashedEvent, insertAuditEvents } from '../src/audit/audit-event.sql';
import { AuditVerifier, AuditVerifyKeys, VerifyResult } from '../src/audit/audit-verifier';
import { ChainedEvent, chainHash } from '../src/audit/chain/audit-chain';
import { ScratchDatabase } from '../src/database/cli/scratch-database';
import { openDirect } from './helpers/audit-db';
import { scratchMariadb } from './helpers/test-app';

const LANES = 3;
const EVENTS = 900;
const KEY = randomBytes(32);
const KEYS: AuditVerifyKeys = {
  chainKey: (id) => (id === 'k1' ? KEY : undefined),
  publicKey: () => undefined,
};

/**
 * Verify hashes big batches on a worker thread and small ones itself: both must find the same
 * first break, with the same reason, whatever was done to the log. Small batches here, so a
 * few hundred events make many of them, tampered ones included.
 */
describe('Audit verify with hashes from the worker (MariaDB)', () => {
  let database: ScratchDatabase;
  let db: DataSource;

  const verifyBoth = async (): Promise<{ worker: VerifyResult; here: VerifyResult }> => ({
    worker: await new AuditVerifier(db, KEYS, undefined, 50, 1).verify(),
    here: await new AuditVerifier(db, KEYS, undefined, 50, Number.MAX_SAFE_INTEGER).verify(),
  });
  const eventAt = async (lane: number, laneSeq: number): Promise<{ seq: string }> =>
    (
      await db.query<{ seq: string }[]>(
        'SELECT seq FROM audit_events WHERE lane = ? AND lane_seq = ?',
        [lane, laneSeq],
      )
    )[0];

  beforeAll(async () => {
    database = await scratchMariadb();
    db = await openDirect(database);
    await db.runMigrations();
    await seed(db);
    for (const trigger of ['audit_events_no_update', 'audit_events_no_delete']) {
      await db.query(`DROP TRIGGER ${trigger}`);
    }
  });

  afterAll(async () => {
    await db?.destroy();
    await database?.drop();
  });

  it('should verify an intact log alike', async () => {
    const { worker, here } = await verifyBoth();
    expect(worker).toEqual({ ok: true, verified: EVENTS, headSeq: String(EVENTS) });
    expect(here).toEqual(worker);
  });

  it('should report a changed event alike', async () => {
    const { seq } = await eventAt(1, 120);
    await db.query('UPDATE audit_events SET details = \'{"x":1}\' WHERE seq = ?', [seq]);
    const { worker, here } = await verifyBoth();
    expect(worker).toMatchObject({
      ok: false,
      firstBadSeq: String(seq),
      reason: expect.stringMatching(/changed/),
    });
    expect(here).toEqual(worker);
  });

  it('should report a deleted event and a changed hash alike, the first of them first', async () => {
    const deleted = await eventAt(0, 40);
    const changed = await eventAt(2, 30);
    await db.query('DELETE FROM audit_events WHERE seq = ?', [deleted.seq]);
    await db.query("UPDATE audit_events SET hash = REPEAT('a', 64) WHERE seq = ?", [changed.seq]);
    const { worker, here } = await verifyBoth();
    expect(worker.ok).toBe(false);
    expect(worker.firstBadSeq).toBe(
      String(Math.min(Number(changed.seq), Number(deleted.seq) + LANES)),
    );
    expect(here).toEqual(worker);
  });
});

async function seed(db: DataSource): Promise<void> {
  const heads = Array.from({ length: LANES }, () => ({ laneSeq: 0, hash: null as string | null }));
  const events: HashedEvent[] = [];
  for (let i = 0; i < EVENTS; i++) {
    const lane = i % LANES;
    const head = heads[lane];
    const event: ChainedEvent = {
      lane,
      laneSeq: String(head.laneSeq + 1),
      occurredAt: new Date(1_790_000_000_000 + i),
      actorType: 'service',
      actorId: `svc-${i % 7}`,
      actorDisplay: i % 2 ? null : 'Ada',
      ip: '10.0.0.1',
      userAgent: 'test',
      requestId: `req-${i}`,
      action: 'credential.reveal',
      resourceType: 'credential',
      resourceId: `cred-${i % 11}`,
      outcome: 'success',
      httpStatus: i % 3 ? 200 : null,
      details: '{"method":"POST"}',
      keyId: 'k1',
    };
    const hash = chainHash(KEY, head.hash, event);
    events.push({ ...event, prevHash: head.hash, hash });
    head.laneSeq += 1;
    head.hash = hash;
  }
  for (let i = 0; i < events.length; i += 300) {
    const { sql, parameters } = insertAuditEvents('mariadb', events.slice(i, i + 300));
    await db.query(sql, parameters);
  }
  await db.query(
    'INSERT INTO audit_chain_heads (lane, last_lane_seq, last_seq, last_hash) ' +
      'SELECT e.lane, e.lane_seq, e.seq, e.hash FROM audit_events e JOIN ' +
      '(SELECT lane, MAX(lane_seq) AS lane_seq FROM audit_events GROUP BY lane) t ' +
      'ON t.lane = e.lane AND t.lane_seq = e.lane_seq',
  );
}
