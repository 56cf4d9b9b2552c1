import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { AuditVerificationService } from '../src/audit/audit-verification.service';
import { AuditWriter } from '../src/audit/audit-writer';
import { createScratchSqlite, ScratchDatabase } from '../src/database/cli/scratch-database';
import { TransactionRunner } from '../src/database/transaction-runner';
import { DetectorRunner } from '../src/incidents/detectors/detector-runner';
import { IncidentTimelineEntry } from '../src/incidents/entities/incident-timeline-entry.entity';
import { openDirect } from './helpers/audit-db';
import { Headers } from './helpers/credential-fixtures';
import { bearerFor, scratchMariadb, startApp, TestApp } from './helpers/test-app';

const API = '/api/v1';

interface Entry {
  seq: number;
  kind: string;
  text: string | null;
  auditSeq: string;
  verified: boolean;
}

interface Integrity {
  ok: boolean;
  checked: number;
  problems: { seq: number | null; auditSeq: string | null; problem: string }[];
}

/** The calls every case makes, on either dialect. */
function timelineClient(sut: () => TestApp, operator: () => Headers, auditor: () => Headers) {
  return {
    async open(): Promise<string> {
      const response = await sut()
        .http.post(`${API}/incidents`)
        .set(operator())
        .send({ type: 'credential_leak', severity: 'high', title: 'key in a gist' })
        .expect(201);
      return (response.body as { id: string }).id;
    },
    async comment(id: string, text: string): Promise<void> {
      await sut()
        .http.post(`${API}/incidents/${id}/comments`)
        .set(operator())
        .send({ text })
        .expect(201);
    },
    async timeline(
      id: string,
      query = '',
    ): Promise<{ items: Entry[]; integrity: Integrity; nextCursor: string | null }> {
      const response = await sut()
        .http.get(`${API}/incidents/${id}/timeline${query}`)
        .set(auditor())
        .expect(200);
      return response.body as { items: Entry[]; integrity: Integrity; nextCursor: string | null };
    },
    async exported(id: string): Promise<{ timeline: Entry[]; timelineIntegrity: Integrity }> {
      const response = await sut()
        .http.get(`${API}/incidents/${id}/export`)
        .set(auditor())
        .expect(200);
      return response.body as { timeline: Entry[]; timelineIntegrity: Integrity };
    },
  };
}

describe('Incident timeline tamper evidence (MariaDB)', () => {
  let database: ScratchDatabase;
  let db: DataSource;
  let sut: TestApp;
  let operator: Headers;
  let auditor: Headers;
  const client = timelineClient(
    () => sut,
    () => operator,
    () => auditor,
  );
  const verify = () => sut.app.get(AuditVerificationService).verify();

  beforeAll(async () => {
    database = await scratchMariadb();
    sut = await startApp(database, {
      env: { THROTTLE_LIMIT: '100000', AUDIT_SINKS: 'none', DETECTORS_ENABLED: 'false' },
    });
    db = await openDirect(database);
    operator = { authorization: await bearerFor(sut, 'operator') };
    auditor = { authorization: await bearerFor(sut, 'auditor') };
  });

  afterAll(async () => {
    await sut?.close();
    await db?.destroy();
    await database?.drop();
  });

  /** An incident with an opening entry, two comments and a transition: four entries. */
  async function story(): Promise<string> {
    const id = await client.open();
    await client.comment(id, 'first look: the key is live');
    await client.comment(id, 'rotated by hand');
    await sut.http
      .post(`${API}/incidents/${id}/transition`)
      .set(operator)
      .send({ to: 'contained', note: 'key rotated' })
      .expect(200);
    return id;
  }

  it('should verify an honest timeline, in the answer and in the export', async () => {
    const id = await story();

    const page = await client.timeline(id);
    const exported = await client.exported(id);

    expect(page.items.map((e) => [e.seq, e.verified])).toEqual([
      [1, true],
      [2, true],
      [3, true],
      [4, true],
    ]);
    expect(page.integrity).toEqual({ ok: true, checked: 4, problems: [] });
    expect(exported.timeline.every((e) => e.verified)).toBe(true);
    expect(exported.timelineIntegrity).toEqual({ ok: true, checked: 4, problems: [] });
  });

  it('should refuse the checked timeline and the export to a viewer', async () => {
    const id = await client.open();
    const viewer = { authorization: await bearerFor(sut, 'viewer') };

    await sut.http.get(`${API}/incidents/${id}/timeline`).set(viewer).expect(403);
    await sut.http.get(`${API}/incidents/${id}/export`).set(viewer).expect(403);
  });

  it('should verify every page of a timeline read page by page', async () => {
    const id = await story();

    const first = await client.timeline(id, '?limit=2');
    const second = await client.timeline(id, `?limit=2&cursor=${first.nextCursor}`);

    expect(first.integrity).toEqual({ ok: true, checked: 2, problems: [] });
    expect(second.integrity).toEqual({ ok: true, checked: 2, problems: [] });
    expect(second.items.map((e) => e.seq)).toEqual([3, 4]);
  });

  it('should keep a whole and verified timeline under concurrent comments', async () => {
    const id = await client.open();

    const statuses = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        sut.http
          .post(`${API}/incidents/${id}/comments`)
          .set(operator)
          .send({ text: `note ${i}` })
          .then((response) => response.status),
      ),
    );
    const page = await client.timeline(id);

    expect(statuses).toEqual(Array.from({ length: 12 }, () => 201));
    expect(page.items.map((e) => e.seq)).toEqual(Array.from({ length: 13 }, (_, i) => i + 1));
    expect(page.items.filter((e) => !e.verified)).toEqual([]);
    expect(page.integrity).toEqual({ ok: true, checked: 13, problems: [] });
    expect(new Set(page.items.map((e) => e.auditSeq)).size).toBe(13);
    expect(await verify()).toMatchObject({ ok: true });
  });

  it('should refuse UPDATE and DELETE on the timeline table', async () => {
    const id = await story();

    await expect(
      db.query("UPDATE incident_timeline SET text = 'FORGED' WHERE incident_id = ?", [id]),
    ).rejects.toThrow(/incident_timeline is append-only/);
    await expect(
      db.query('DELETE FROM incident_timeline WHERE incident_id = ? AND seq = 1', [id]),
    ).rejects.toThrow(/incident_timeline is append-only/);
    expect((await client.timeline(id)).integrity.ok).toBe(true);
  });

  it('should report an entry inserted straight into the table', async () => {
    const id = await story();
    await db.query(
      'INSERT INTO incident_timeline (id, incident_id, seq, kind, actor_type, actor_id, ' +
        "actor_display, text, details, audit_seq, occurred_at) VALUES (?, ?, 5, 'comment', " +
        "'user', NULL, 'ciso@example.com', 'false alarm, nothing leaked', '{}', 1, NOW(3))",
      [randomUUID(), id],
    );

    const page = await client.timeline(id);
    const exported = await client.exported(id);

    const expected = {
      ok: false,
      checked: 5,
      problems: [{ seq: 5, auditSeq: '1', problem: 'unrecorded' }],
    };
    expect(page.items.map((e) => e.verified)).toEqual([true, true, true, true, false]);
    expect(page.integrity).toEqual(expected);
    expect(exported.timelineIntegrity).toEqual(expected);
    expect(exported.timeline[4]).toMatchObject({ seq: 5, verified: false });
  });

  describe('with the triggers dropped (an attacker with DDL rights)', () => {
    let forged: string;

    beforeAll(async () => {
      await db.query('DROP TRIGGER incident_timeline_no_update');
      await db.query('DROP TRIGGER incident_timeline_no_delete');
    });

    it('should report a forged text in the answer and the export, though the chain verifies', async () => {
      const id = await story();
      forged = id;
      const before = await client.timeline(id);
      await db.query(
        "UPDATE incident_timeline SET text = 'FORGED' WHERE incident_id = ? AND seq = 2",
        [id],
      );

      const page = await client.timeline(id);
      const exported = await client.exported(id);

      const expected = {
        ok: false,
        checked: 4,
        problems: [{ seq: 2, auditSeq: before.items[1].auditSeq, problem: 'altered' }],
      };
      expect(page.items[1]).toMatchObject({ seq: 2, text: 'FORGED', verified: false });
      expect(page.items.filter((e) => e.verified).map((e) => e.seq)).toEqual([1, 3, 4]);
      expect(page.integrity).toEqual(expected);
      expect(exported.timeline[1]).toMatchObject({ seq: 2, verified: false });
      expect(exported.timelineIntegrity).toEqual(expected);
      // The chain itself is untouched: only the timeline check sees this.
      expect(await verify()).toMatchObject({ ok: true });
    });

    it('should report a deleted first entry in the answer and the export', async () => {
      const id = await story();
      const before = await client.timeline(id);
      await db.query('DELETE FROM incident_timeline WHERE incident_id = ? AND seq = 1', [id]);

      const page = await client.timeline(id);
      const exported = await client.exported(id);

      const expected = {
        ok: false,
        checked: 3,
        problems: [{ seq: 1, auditSeq: before.items[0].auditSeq, problem: 'missing' }],
      };
      expect(page.items.map((e) => [e.seq, e.verified])).toEqual([
        [2, true],
        [3, true],
        [4, true],
      ]);
      expect(page.integrity).toEqual(expected);
      expect(exported.timelineIntegrity).toEqual(expected);
    });

    it('should report an entry replaced by a fake that points at its audit event', async () => {
      const id = await story();
      const [real] = await db.query<{ id: string; audit_seq: string }[]>(
        'SELECT id, audit_seq FROM incident_timeline WHERE incident_id = ? AND seq = 3',
        [id],
      );
      await db.query('DELETE FROM incident_timeline WHERE id = ?', [real.id]);
      await db.query(
        'INSERT INTO incident_timeline (id, incident_id, seq, kind, actor_type, actor_id, ' +
          "actor_display, text, details, audit_seq, occurred_at) VALUES (?, ?, 3, 'comment', " +
          "'user', NULL, 'ciso@example.com', 'nothing to see', '{}', ?, NOW(3))",
        [randomUUID(), id, real.audit_seq],
      );

      const page = await client.timeline(id);

      expect(page.items[2]).toMatchObject({ seq: 3, text: 'nothing to see', verified: false });
      expect(page.integrity.problems).toEqual([
        { seq: 3, auditSeq: String(real.audit_seq), problem: 'altered' },
      ]);
    });

    it('should verify an entry written before seals, and report it forged', async () => {
      const id = await client.open();
      const entry = await writeUnsealedEntry(sut, id, 'written by the previous release');

      expect((await client.timeline(id)).integrity).toEqual({ ok: true, checked: 2, problems: [] });

      await db.query("UPDATE incident_timeline SET text = 'FORGED' WHERE id = ?", [entry.id]);
      expect((await client.timeline(id)).integrity.problems).toEqual([
        { seq: 2, auditSeq: entry.auditSeq, problem: 'altered' },
      ]);
    });

    it('should have the scheduled tamper check open an incident naming the tampered timelines', async () => {
      const reports = await sut.app.get(DetectorRunner).verifyChain();

      expect(reports).toHaveLength(1);
      const [{ finding, opened }] = reports;
      expect(opened).toBe(true);
      expect(finding.title).toMatch(/^Incident timelines disagree with the audit chain/);
      expect(finding.facts.tamperedTimelines).toContainEqual({
        incidentId: forged,
        problems: [expect.objectContaining({ seq: 2, problem: 'altered' })],
      });
    });
  });
});

/**
 * A comment as the timeline wrote it before entries were sealed: its audit event records the
 * entry's kind, seq and text, and no seal.
 */
async function writeUnsealedEntry(
  sut: TestApp,
  incidentId: string,
  text: string,
): Promise<IncidentTimelineEntry> {
  const audit = sut.app.get(AuditWriter);
  return sut.app.get(TransactionRunner).run(async (manager: EntityManager) => {
    const [last] = await manager.query<{ seq: number | string }[]>(
      'SELECT MAX(seq) AS seq FROM incident_timeline WHERE incident_id = ?',
      [incidentId],
    );
    const seq = Number(last.seq) + 1;
    const [auditSeq] = await audit.recordAll(
      [
        {
          action: 'incident.comment',
          outcome: 'success',
          resourceType: 'incident',
          resourceId: incidentId,
          details: { kind: 'comment', timelineSeq: seq, text },
          actor: { type: 'system', id: null, display: 'custos' },
        },
      ],
      manager,
    );
    const row: IncidentTimelineEntry = {
      id: randomUUID(),
      incidentId,
      seq,
      kind: 'comment',
      actorType: 'system',
      actorId: null,
      actorDisplay: 'custos',
      text,
      details: '{}',
      auditSeq,
      occurredAt: new Date(),
    };
    await manager.insert(IncidentTimelineEntry, row);
    return row;
  });
}

/** The same promises on the embedded SQLite database, whose triggers are its own SQL. */
describe('Incident timeline tamper evidence (SQLite)', () => {
  let database: ScratchDatabase;
  let db: DataSource;
  let sut: TestApp;
  let operator: Headers;
  let auditor: Headers;
  const client = timelineClient(
    () => sut,
    () => operator,
    () => auditor,
  );

  beforeAll(async () => {
    database = createScratchSqlite();
    sut = await startApp(database, {
      env: { THROTTLE_LIMIT: '100000', AUDIT_SINKS: 'none', DETECTORS_ENABLED: 'false' },
    });
    db = await openDirect(database);
    operator = { authorization: await bearerFor(sut, 'operator') };
    auditor = { authorization: await bearerFor(sut, 'auditor') };
  });

  afterAll(async () => {
    await sut?.close();
    await db?.destroy();
    await database?.drop();
  });

  it('should verify an honest timeline under concurrent comments', async () => {
    const id = await client.open();
    await Promise.all(Array.from({ length: 6 }, (_, i) => client.comment(id, `note ${i}`)));

    const page = await client.timeline(id);

    expect(page.items.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(page.integrity).toEqual({ ok: true, checked: 7, problems: [] });
  });

  it('should refuse UPDATE and DELETE on the timeline table', async () => {
    const id = await client.open();

    await expect(
      db.query("UPDATE incident_timeline SET text = 'FORGED' WHERE incident_id = ?", [id]),
    ).rejects.toThrow(/incident_timeline is append-only/);
    await expect(
      db.query('DELETE FROM incident_timeline WHERE incident_id = ?', [id]),
    ).rejects.toThrow(/incident_timeline is append-only/);
  });

  it('should report a forged and a deleted entry once the triggers are dropped', async () => {
    const id = await client.open();
    await client.comment(id, 'first');
    await client.comment(id, 'second');
    const before = await client.timeline(id);
    await db.query('DROP TRIGGER incident_timeline_no_update');
    await db.query('DROP TRIGGER incident_timeline_no_delete');
    await db.query(
      "UPDATE incident_timeline SET text = 'FORGED' WHERE incident_id = ? AND seq = 3",
      [id],
    );
    await db.query('DELETE FROM incident_timeline WHERE incident_id = ? AND seq = 1', [id]);

    const page = await client.timeline(id);
    const exported = await client.exported(id);

    const expected = {
      ok: false,
      checked: 2,
      problems: [
        { seq: 1, auditSeq: before.items[0].auditSeq, problem: 'missing' },
        { seq: 3, auditSeq: before.items[2].auditSeq, problem: 'altered' },
      ],
    };
    expect(page.integrity).toEqual(expected);
    expect(exported.timelineIntegrity).toEqual(expected);
  });
});
