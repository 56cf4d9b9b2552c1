import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { AuditCheckpointer } from '../src/audit/audit-checkpointer';
import { AuditVerificationService } from '../src/audit/audit-verification.service';
import { OutboxRelay } from '../src/audit/outbox/outbox-relay';
import { ScratchDatabase } from '../src/database/cli/scratch-database';
import { TransactionRunner } from '../src/database/transaction-runner';
import { EventOutbox } from '../src/events/event-outbox';
import { OutboxReader } from '../src/events/outbox-reader';
import { StreamSequencer } from '../src/events/stream-sequencer';
import { createCredential } from './helpers/credential-fixtures';
import { bearerFor, scratchMariadb, startApp, TestApp } from './helpers/test-app';

interface Page {
  items: { seq: string }[];
  nextCursor: string | null;
}

/**
 * A Galera node hands out auto-increment ids in steps of the node count, from its own offset
 * (auto_increment_increment=3, auto_increment_offset=2 on a three-node cluster). Here one server
 * does the same on the app's own connections, and everything that orders, pages or numbers by an
 * auto-increment id must still see every row once: audit query pages, verify, checkpoints, the
 * audit outbox relay and the event stream numbering.
 */
describe('Auto-increment gaps as on Galera (MariaDB)', () => {
  let database: ScratchDatabase;
  let sut: TestApp;
  let db: DataSource;
  let auditFile: string;
  let auditDir: string;

  beforeAll(async () => {
    database = await scratchMariadb();
    auditDir = mkdtempSync(join(tmpdir(), 'custos-gaps-'));
    auditFile = join(auditDir, 'audit.jsonl');
    sut = await startApp(database, {
      env: {
        TEST_DB_SESSION_VARIABLES: 'auto_increment_increment=3,auto_increment_offset=2',
        AUDIT_SINKS: 'file',
        AUDIT_FILE_PATH: auditFile,
      },
    });
    db = sut.app.get(DataSource);
    const admin = { authorization: await bearerFor(sut, 'admin') };
    for (let i = 0; i < 12; i++) await createCredential(sut, admin, { path: `gaps/c${i}` });
    // Domain events, some several to a transaction, as rotation batches publish them.
    for (let batch = 0; batch < 4; batch++) {
      await sut.app.get(TransactionRunner).run(async (manager) => {
        for (let i = 0; i < 3; i++) {
          await sut.app.get(EventOutbox).publish(manager, {
            type: 'credential.expiring',
            resourceType: 'credential',
            resourceId: `gap-${batch}-${i}`,
            path: `gaps/c${i}`,
            data: { batch, i },
          });
        }
      });
    }
  });

  afterAll(async () => {
    await sut?.close();
    await database?.drop();
    rmSync(auditDir, { recursive: true, force: true });
  });

  async function ids(sql: string): Promise<number[]> {
    const rows = await db.query<{ id: string | number }[]>(sql);
    return rows.map((row) => Number(row.id));
  }

  it('should really leave gaps: ids step by 3 from offset 2', async () => {
    const seqs = await ids('SELECT seq AS id FROM audit_events ORDER BY seq');
    expect(seqs.length).toBeGreaterThan(12);
    expect(seqs.every((seq) => seq % 3 === 2)).toBe(true);
    const events = await ids('SELECT seq AS id FROM event_outbox ORDER BY seq');
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((seq) => seq % 3 === 2)).toBe(true);
  });

  it('should page the audit log by cursor over every event once', async () => {
    const auditor = await bearerFor(sut, 'auditor');
    const all = await ids('SELECT seq AS id FROM audit_events ORDER BY seq DESC');
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const query = `limit=5${cursor ? `&cursor=${cursor}` : ''}`;
      const response = await sut.http
        .get(`/api/v1/audit/events?${query}`)
        .set('authorization', auditor)
        .expect(200);
      const page = response.body as Page;
      seen.push(...page.items.map((item) => Number(item.seq)));
      cursor = page.nextCursor;
    } while (cursor);
    // The auditor's own page reads are recorded as they go: every event from before is there once.
    expect(seen.filter((seq) => seq <= all[0])).toEqual(all);
  });

  it('should checkpoint and verify the chain', async () => {
    expect(await sut.app.get(AuditCheckpointer).checkpoint()).not.toBeNull();
    expect(await sut.app.get(AuditVerificationService).verify()).toMatchObject({ ok: true });
  });

  it('should relay every audit event to the file sink exactly once', async () => {
    const committed = await ids('SELECT seq AS id FROM audit_events ORDER BY seq');
    await sut.app.get(OutboxRelay).tick();
    const relayed = readFileSync(auditFile, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; seq?: string | number })
      .filter((line) => line.type === 'audit.event')
      .map((line) => Number(line.seq));
    expect(new Set(relayed).size).toBe(relayed.length);
    expect(relayed).toEqual(expect.arrayContaining(committed));
  });

  it('should number the event stream 1, 2, 3… over the gapped seqs, in seq order', async () => {
    await sut.app.get(StreamSequencer).sequence();
    const events = await sut.app.get(OutboxReader).after(0, 1000);
    expect(events.map((event) => Number(event.streamSeq))).toEqual(events.map((_, i) => i + 1));
    const bySeq = await ids('SELECT stream_seq AS id FROM event_outbox ORDER BY seq');
    expect(bySeq).toEqual(bySeq.map((_, i) => i + 1));
  });
});
