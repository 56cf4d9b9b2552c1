import { DataSource } from 'typeorm';
import { AuditVerificationService } from '../src/audit/audit-verification.service';
import { ScratchDatabase } from '../src/database/cli/scratch-database';
import { EventRow, openDirect } from './helpers/audit-db';
import { AuditProbeAppModule } from './helpers/audit-probe';
import { bearerFor, scratchMariadb, startApp, TestApp } from './helpers/test-app';

interface Verify {
  ok: boolean;
  verified: number;
  headSeq: string | null;
  firstBadSeq?: string;
  reason?: string;
}

const CLIENTS = 20;
const VERIFIES = 50;
const MIN_VERIFIES = 10;

/**
 * Verify reads each lane and its head in one snapshot, so events committed while it walks are
 * neither tampering nor silently skipped; tampering is still found once the writers stop.
 */
describe('Audit verify under concurrent writes (MariaDB)', () => {
  let database: ScratchDatabase;
  let db: DataSource;
  let sut: TestApp;
  let auditor: string;

  beforeAll(async () => {
    database = await scratchMariadb();
    sut = await startApp(database, {
      rootModule: AuditProbeAppModule,
      env: {
        AUDIT_LANES: '4',
        AUDIT_SINKS: 'none',
        // Checkpoints written during the run too, so verify meets them mid-walk.
        AUDIT_CHECKPOINT_EVERY_EVENTS: '50',
        THROTTLE_LIMIT: '1000000',
        REVEAL_RATE_LIMIT: '1000000',
        LOGIN_THROTTLE_LIMIT: '1000',
      },
    });
    db = await openDirect(database);
    await db.query('CREATE TABLE probe_items (name varchar(64) PRIMARY KEY) ENGINE=InnoDB');
    auditor = await bearerFor(sut, 'auditor');
  });

  afterAll(async () => {
    await sut?.close();
    await db?.destroy();
    await database?.drop();
  });

  it('should report no tampering on an honest log while 20 clients write events', async () => {
    const bearers = await Promise.all(
      Array.from({ length: CLIENTS }, (_, i) => bearerFor(sut, i % 2 ? 'viewer' : 'admin')),
    );
    let stop = false;
    let written = 0;
    const failures: string[] = [];
    // Half read their own profile (the request's event joins a group commit), half create an
    // item (the event is written in the item's own transaction).
    const client = async (bearer: string, i: number): Promise<void> => {
      for (let n = 0; !stop; n++) {
        const response =
          i % 2
            ? await sut.http.get('/api/v1/auth/me').set('authorization', bearer)
            : await sut.http.post('/api/v1/probe/items').send({ name: `c${i}-${n}` });
        if (response.status >= 300) failures.push(`${response.status} ${response.text}`);
        written++;
      }
    };
    const clients = bearers.map((bearer, i) => client(bearer, i));

    const results: Verify[] = [];
    try {
      while (written < 200) await new Promise((resolve) => setTimeout(resolve, 20));
      // Each verify walks the whole, growing log: on a loaded machine, fewer of them, not a timeout.
      const deadline = Date.now() + 20_000;
      for (let i = 0; i < VERIFIES && (i < MIN_VERIFIES || Date.now() < deadline); i++) {
        const response = await sut.http
          .post('/api/v1/audit/verify')
          .set('authorization', auditor)
          .expect(200);
        results.push(response.body as Verify);
      }
    } finally {
      stop = true;
      await Promise.all(clients);
    }

    expect(failures).toEqual([]);
    expect(results.filter((result) => !result.ok)).toEqual([]);
    // Each verify covered what had committed when it started, so coverage only grows.
    expect(results.at(-1)!.verified).toBeGreaterThan(results[0].verified);
    expect(written).toBeGreaterThan(results.length);
  }, 120_000);

  describe('once the load stops, with the triggers dropped', () => {
    const verify = (): Promise<Verify> => sut.app.get(AuditVerificationService).verify();

    beforeAll(async () => {
      await db.query('DROP TRIGGER audit_events_no_update');
      await db.query('DROP TRIGGER audit_events_no_delete');
    });

    it('should still pass before anything is touched', async () => {
      expect(await verify()).toMatchObject({ ok: true });
    });

    it('should find an event deleted in the middle of a lane', async () => {
      const [, deleted, next] = await db.query<EventRow[]>(
        'SELECT * FROM audit_events WHERE lane = 1 ORDER BY lane_seq LIMIT 3',
      );
      await db.query('DELETE FROM audit_events WHERE seq = ?', [deleted.seq]);

      const result = await verify();

      expect(result).toMatchObject({ ok: false, firstBadSeq: String(next.seq) });
      expect(result.reason).toMatch(/missing/);
      // Put back, so the next test finds its own tampering first and not this one, whichever
      // lane the load happened to give the lower sequence numbers.
      const columns = Object.keys(deleted);
      await db.query(
        `INSERT INTO audit_events (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,
        columns.map((column) => deleted[column as keyof EventRow]),
      );
      expect(await verify()).toMatchObject({ ok: true });
    });

    it('should find an edited event', async () => {
      const [target] = await db.query<EventRow[]>(
        'SELECT * FROM audit_events WHERE lane = 0 ORDER BY lane_seq LIMIT 1',
      );
      await db.query("UPDATE audit_events SET outcome = 'denied' WHERE seq = ?", [target.seq]);

      const result = await verify();

      expect(result).toMatchObject({ ok: false, firstBadSeq: String(target.seq) });
      expect(result.reason).toMatch(/changed/);
    });
  });
});
