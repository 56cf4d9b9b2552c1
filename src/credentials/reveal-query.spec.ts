import Database from 'better-sqlite3';
import { revealQuery } from './reveal-query';

describe('revealQuery', () => {
  const row = {
    id: 'c1',
    path: 'a/b',
    type: 'password',
    status: 'active',
    currentVersion: 2,
    decoy: 0,
    version: 1,
    state: 'previous',
    graceUntil: '2026-01-01 00:05:00.000',
    ciphertext: null,
    iv: null,
    tag: null,
    wrappedDek: null,
    kekId: null,
    username: null,
  };

  it('should read the database clock in the same statement, for judging grace by it', () => {
    const mariadb = revealQuery('mariadb', { id: 'c1' }, 1, null);
    expect(mariadb.sql).toContain('UTC_TIMESTAMP(3) AS dbNow');
    const load = mariadb.read([{ ...row, dbNow: new Date('2026-01-01T00:04:00.000Z') }]);
    expect(load.now).toEqual(new Date('2026-01-01T00:04:00.000Z'));
    expect(load.row?.graceUntil).toEqual(new Date('2026-01-01T00:05:00.000Z'));
  });

  it("should read SQLite's clock as UTC", () => {
    const query = revealQuery('sqlite', { id: 'c1' }, 1, null);
    const clock = /, (strftime\(.*\)) AS dbNow /.exec(query.sql)![1];
    const db = new Database(':memory:');
    try {
      const { dbNow } = db.prepare(`SELECT ${clock} AS dbNow`).get() as { dbNow: string };
      const load = query.read([{ ...row, dbNow }]);
      expect(Math.abs(load.now.getTime() - Date.now())).toBeLessThan(5_000);
    } finally {
      db.close();
    }
  });
});
