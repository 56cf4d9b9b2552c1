import { createScratchSqlite, ScratchDatabase } from '../src/database/cli/scratch-database';
import { AuditCheckpointer } from '../src/audit/audit-checkpointer';
import { bearerFor, scratchMariadb, startApp, TestApp } from './helpers/test-app';

interface Page {
  items: {
    seq: string;
    action: string;
    outcome: string;
    requestId: string;
    occurredAt: string;
    httpStatus: number;
  }[];
  nextCursor: string | null;
}

describe.each([
  ['MariaDB', scratchMariadb],
  ['SQLite', () => Promise.resolve(createScratchSqlite())],
] as const)('Audit query, export and verify (%s)', (_name, scratch) => {
  let database: ScratchDatabase;
  let sut: TestApp;
  let auditor: string;
  const started = new Date(Date.now() - 1000).toISOString();

  beforeAll(async () => {
    database = await scratch();
    sut = await startApp(database, { env: { AUDIT_SINKS: 'none' } });
    auditor = await bearerFor(sut, 'auditor');
    // Concurrent requests: on SQLite they queue, on MariaDB they spread over lanes.
    await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        sut.http.get(`/api/v1/missing/${i}`).set('x-request-id', `q-${i}`).expect(404),
      ),
    );
    await sut.http
      .get('/api/v1/audit/events?limit=999')
      .set('authorization', auditor)
      .set('x-request-id', 'q-invalid')
      .expect(400);
    await new Promise((resolve) => setTimeout(resolve, 200));
  });

  afterAll(async () => {
    await sut?.close();
    await database?.drop();
  });

  const list = async (query: string): Promise<Page> =>
    (await sut.http.get(`/api/v1/audit/events?${query}`).set('authorization', auditor).expect(200))
      .body as Page;

  it('should page newest first by seq with a cursor, without gaps or repeats', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Page = await list(
        `action=http.unmatched&limit=7${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(page.items.length).toBeLessThanOrEqual(7);
      seen.push(...page.items.map((item) => item.seq));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(30);
    expect(new Set(seen).size).toBe(30);
    expect([...seen].sort((a, b) => Number(b) - Number(a))).toEqual(seen);
  });

  it('should filter by action prefix, outcome and time', async () => {
    const invalid = await list('action=audit.&outcome=invalid');
    expect(invalid.items.map((i) => i.requestId)).toEqual(['q-invalid']);
    expect((await list('action=http.&outcome=success')).items).toHaveLength(0);
    expect(
      (await list(`action=http.&from=${encodeURIComponent(started)}&limit=100`)).items,
    ).toHaveLength(30);
    expect((await list('action=http.&to=2000-01-01T00:00:00Z')).items).toHaveLength(0);
  });

  it('should refuse bad filters with 400', async () => {
    for (const query of [
      'limit=0',
      'limit=501',
      'cursor=abc',
      'outcome=maybe',
      'from=yesterday',
      'action=%25',
      'sort=seq',
    ]) {
      const response = await sut.http
        .get(`/api/v1/audit/events?${query}`)
        .set('authorization', auditor)
        .expect(400);
      expect(response.body.statusCode).toBe(400);
    }
  });

  it('should stream the export as NDJSON, oldest first', async () => {
    const response = await sut.http
      .get('/api/v1/audit/events/export?action=http.unmatched')
      .set('authorization', auditor)
      .expect(200);
    expect(response.headers['content-type']).toContain('application/x-ndjson');
    const lines = response.text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { seq: string; action: string });
    expect(lines).toHaveLength(30);
    expect(lines.every((line) => line.action === 'http.unmatched')).toBe(true);
    expect(lines.map((l) => Number(l.seq))).toEqual(
      [...lines.map((l) => Number(l.seq))].sort((a, b) => a - b),
    );
  });

  it('should verify the whole chain, checkpoint included', async () => {
    await sut.app.get(AuditCheckpointer).checkpoint();
    const response = await sut.http
      .post('/api/v1/audit/verify')
      .set('authorization', auditor)
      .expect(200);
    expect(response.body).toMatchObject({ ok: true });
    expect(response.body.verified).toBeGreaterThanOrEqual(31);
  });
});
