import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { Credential } from '../src/credentials/entities/credential.entity';
import { checkedSecret } from '../src/credentials/secret-input';
import { VersionCrypto } from '../src/credentials/version-crypto';
import { VersionStore } from '../src/credentials/version-store';
import { createScratchSqlite, ScratchDatabase } from '../src/database/cli/scratch-database';
import { rowLock } from '../src/database/dialect';
import { TransactionRunner } from '../src/database/transaction-runner';
import { createCredential, Headers, passwordNumber } from './helpers/credential-fixtures';
import { bearerFor, scratchMariadb, startApp, TestApp } from './helpers/test-app';

const API = '/api/v1';
const ENV = {
  THROTTLE_LIMIT: '100000',
  LOGIN_THROTTLE_LIMIT: '100000',
  // Every version kept, so the history can be checked whole.
  CREDENTIALS_MAX_VERSIONS: '100',
  ROTATION_SCHEDULER_ENABLED: 'false',
};

interface VersionRow {
  version: number;
  state: string;
  live_state: string | null;
  grace_until: Date | string | null;
  revoked_at: Date | string | null;
  ciphertext: Buffer | null;
  iv: string | null;
  tag: string | null;
  wrapped_dek: string | null;
  kek_id: string | null;
  fingerprint: string | null;
}

/**
 * What refused a statement: a unique index (by the driver's code) or the named CHECK constraint
 * (by its name in the message: mysql2 maps MariaDB's errno 4025 to a MySQL code of that number).
 */
const UNIQUE_CODES = { MariaDB: 'ER_DUP_ENTRY', SQLite: 'SQLITE_CONSTRAINT_UNIQUE' } as const;

const DIALECTS = [
  ['MariaDB', scratchMariadb],
  ['SQLite', () => Promise.resolve(createScratchSqlite())],
] as const;

describe.each(DIALECTS)('The version guard in the database (%s)', (dialect, scratch) => {
  let database: ScratchDatabase;
  let sut: TestApp;
  let db: DataSource;
  let admin: Headers;

  beforeAll(async () => {
    database = await scratch();
    sut = await startApp(database, { env: ENV });
    db = sut.app.get(DataSource);
    admin = { authorization: await bearerFor(sut, 'admin') };
  });

  afterAll(async () => {
    await sut?.close();
    await database?.drop();
  });

  /** A credential with versions 1 (previous) and 2 (current). */
  async function twoVersions(path: string): Promise<string> {
    const { id } = await createCredential(sut, admin, { path });
    await sut.http
      .put(`${API}/credentials/${id}/secret`)
      .set(admin)
      .send({ secret: passwordNumber(2) })
      .expect(200);
    return id;
  }

  /** A copy of version 1's row as version `version` with the given states. */
  const insertCopy = (id: string, version: number, state: string, liveState: string | null) =>
    db.query(
      'INSERT INTO credential_versions (credential_id, version, state, live_state, ciphertext, iv, tag, wrapped_dek, kek_id, fingerprint, created_at) ' +
        'SELECT credential_id, ?, ?, ?, ciphertext, iv, tag, wrapped_dek, kek_id, fingerprint, created_at ' +
        'FROM credential_versions WHERE credential_id = ? AND version = 1',
      [version, state, liveState, id],
    );

  const expectRefused = async (
    statement: Promise<unknown>,
    by: 'unique' | 'check',
    check = 'chk_credential_versions_live',
  ) => {
    await expect(statement).rejects.toMatchObject(
      by === 'unique'
        ? { driverError: { code: UNIQUE_CODES[dialect] } }
        : { message: expect.stringContaining(check) },
    );
  };

  it('should refuse a second current version, inserted or updated', async () => {
    const id = await twoVersions('guard/second-current');

    await expectRefused(insertCopy(id, 3, 'current', 'current'), 'unique');
    await expectRefused(
      db.query(
        "UPDATE credential_versions SET state = 'current', live_state = 'current' WHERE credential_id = ? AND version = 1",
        [id],
      ),
      'unique',
    );
  });

  it('should refuse a second pending version', async () => {
    const id = await twoVersions('guard/second-pending');
    await insertCopy(id, 3, 'pending', 'pending');

    await expectRefused(insertCopy(id, 4, 'pending', 'pending'), 'unique');
    await expectRefused(
      db.query(
        "UPDATE credential_versions SET state = 'pending', live_state = 'pending' WHERE credential_id = ? AND version = 1",
        [id],
      ),
      'unique',
    );
  });

  it.each([
    ['a current version without live_state', 'current', null],
    ['a pending version marked current', 'pending', 'current'],
    ['a revoked version marked pending', 'revoked', 'pending'],
    ['a previous version marked current', 'previous', 'current'],
  ])('should refuse %s', async (_case, state, liveState) => {
    const id = await twoVersions(`guard/check-${state}-${liveState ?? 'null'}`);

    await expectRefused(insertCopy(id, 3, state, liveState), 'check');
  });

  it('should refuse an update that leaves live_state disagreeing with state', async () => {
    const id = await twoVersions('guard/check-update');

    await expectRefused(
      db.query(
        'UPDATE credential_versions SET live_state = NULL WHERE credential_id = ? AND version = 2',
        [id],
      ),
      'check',
    );
    await expectRefused(
      db.query(
        "UPDATE credential_versions SET state = 'revoked' WHERE credential_id = ? AND version = 2",
        [id],
      ),
      'check',
    );
    const rows = await db.query<VersionRow[]>(
      'SELECT version, state, live_state FROM credential_versions WHERE credential_id = ? ORDER BY version',
      [id],
    );
    expect(rows.map((r) => [r.version, r.state, r.live_state])).toEqual([
      [1, 'previous', null],
      [2, 'current', 'current'],
    ]);
  });

  it('should refuse an open run without its slot, and a second open run', async () => {
    const { id } = await createCredential(sut, admin, { path: 'guard/runs' });
    const insertRun = (status: string, slot: string | null) =>
      db.query(
        'INSERT INTO rotation_runs (id, credential_id, rotator, step, status, open_slot, attempt, max_attempts, ' +
          'triggered_by, grace_seconds, next_attempt_at, started_at, updated_at) ' +
          "VALUES (?, ?, 'generated', 'create', ?, ?, 1, 3, 'manual', 0, ?, ?, ?)",
        [
          randomUUID(),
          id,
          status,
          slot,
          '2026-01-01 00:00:00.000',
          '2026-01-01 00:00:00.000',
          '2026-01-01 00:00:00.000',
        ],
      );

    await expectRefused(insertRun('running', null), 'check', 'chk_rotation_runs_open');
    await expectRefused(insertRun('failed', 'open'), 'check', 'chk_rotation_runs_open');
    await insertRun('waiting', 'open');
    await expectRefused(insertRun('running', 'open'), 'unique');
    await insertRun('failed', null);
  });
});

describe('The version store on MariaDB', () => {
  let database: ScratchDatabase;
  let sut: TestApp;
  let db: DataSource;
  let admin: Headers;

  beforeAll(async () => {
    database = await scratchMariadb();
    sut = await startApp(database, { env: ENV });
    db = sut.app.get(DataSource);
    admin = { authorization: await bearerFor(sut, 'admin') };
  });

  afterAll(async () => {
    await sut?.close();
    await database?.drop();
  });

  const versionsOf = (id: string) =>
    db.query<VersionRow[]>(
      'SELECT version, state, live_state, grace_until, revoked_at, ciphertext, iv, tag, wrapped_dek, kek_id, fingerprint ' +
        'FROM credential_versions WHERE credential_id = ? ORDER BY version',
      [id],
    );

  const dbNow = async (): Promise<Date> => {
    const [row] = await db.query<{ now: Date }[]>('SELECT UTC_TIMESTAMP(3) AS now');
    return row.now;
  };

  const reveal = (id: string, version: number) =>
    sut.http.post(`${API}/credentials/${id}/reveal`).set(admin).send({ version });

  /** Runs `work` in a transaction with the credential locked, as every version change does. */
  const withLocked = <T>(id: string, work: (m: EntityManager, c: Credential) => Promise<T>) =>
    sut.app.get(TransactionRunner).run(async (manager) => {
      const credential = await manager.findOneOrFail(Credential, {
        where: { id },
        lock: rowLock(manager),
      });
      return work(manager, credential);
    });

  it('should leave one current version and a contiguous, decryptable history after 20 concurrent writes', async () => {
    const { id } = await createCredential(sut, admin, {
      path: 'store/concurrent',
      secret: passwordNumber(0),
    });

    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        sut.app.inject({
          method: 'PUT',
          url: `${API}/credentials/${id}/secret`,
          headers: admin,
          payload: { secret: passwordNumber(i + 1) },
        }),
      ),
    );

    expect(responses.map((r) => r.statusCode)).toEqual(Array(20).fill(200));
    const rows = await versionsOf(id);
    expect(rows.map((r) => r.version)).toEqual(Array.from({ length: 21 }, (_, i) => i + 1));
    expect(rows.filter((r) => r.state === 'current').map((r) => r.version)).toEqual([21]);
    expect(rows.filter((r) => r.state === 'previous').map((r) => r.version)).toEqual([20]);
    expect(rows.filter((r) => r.state === 'revoked')).toHaveLength(19);
    const [credential] = await db.query<{ current_version: number; last_version: number }[]>(
      'SELECT current_version, last_version FROM credentials WHERE id = ?',
      [id],
    );
    expect(credential).toEqual({ current_version: 21, last_version: 21 });

    // Each write stored a value of its own: every one of them decrypts, under its own version.
    const crypto = sut.app.get(VersionCrypto);
    const values = rows.map(
      (r) =>
        crypto.open(id, {
          version: r.version,
          ciphertext: r.ciphertext,
          iv: r.iv,
          tag: r.tag,
          wrappedDek: r.wrapped_dek,
          kekId: r.kek_id,
        }).password,
    );
    expect(new Set(values).size).toBe(21);
    expect(values[0]).toBe('password-number-0');
    for (const r of rows.filter((row) => ['current', 'previous'].includes(row.state))) {
      const revealed = await reveal(id, r.version).expect(200);
      expect(revealed.body).toMatchObject({ version: r.version, state: r.state });
      expect(revealed.body.secret.password).toBe(values[r.version - 1]);
    }
    await reveal(id, 19).expect(409);
  });

  it('should end the grace at the database clock plus the configured grace', async () => {
    const { id } = await createCredential(sut, admin, { path: 'store/grace' });
    const before = await dbNow();

    await sut.http
      .put(`${API}/credentials/${id}/secret`)
      .set(admin)
      .send({ secret: passwordNumber(2) })
      .expect(200);
    const after = await dbNow();

    const [previous] = (await versionsOf(id)).filter((r) => r.state === 'previous');
    const graceUntil = (previous.grace_until as Date).getTime();
    const grace = 24 * 3600 * 1000;
    expect(graceUntil).toBeGreaterThanOrEqual(before.getTime() + grace - 1000);
    expect(graceUntil).toBeLessThanOrEqual(after.getTime() + grace + 1000);
  });

  it('should revoke the old current version in the same transaction when promoting with grace 0', async () => {
    const { id } = await createCredential(sut, admin, {
      path: 'store/emergency',
      secret: passwordNumber(1),
    });
    const store = sut.app.get(VersionStore);
    const pendingOf = (m: EntityManager, c: Credential) =>
      store.addPending(m, c, checkedSecret('password', passwordNumber(2)), null);

    // The switch and the revocation commit or roll back together.
    await expect(
      withLocked(id, async (m, c) => {
        await store.promote(m, c, await pendingOf(m, c), 0);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect((await versionsOf(id)).map((r) => [r.version, r.state])).toEqual([[1, 'current']]);

    const inside = await withLocked(id, async (m, c) => {
      const promotion = await store.promote(m, c, await pendingOf(m, c), 0);
      const rows = await m.query<VersionRow[]>(
        'SELECT version, state, live_state, grace_until, revoked_at FROM credential_versions WHERE credential_id = ? ORDER BY version',
        [id],
      );
      return { promotion, rows };
    });

    expect(inside.promotion).toMatchObject({ previousVersion: 1, graceUntil: null, revoked: [1] });
    // The rolled-back attempt took no number for good: its last_version went back with it.
    expect(inside.rows.map((r) => [r.version, r.state, r.live_state])).toEqual([
      [1, 'revoked', null],
      [2, 'current', 'current'],
    ]);
    expect(inside.rows[0].revoked_at).toEqual(inside.rows[0].grace_until);
    await reveal(id, 1).expect(409);
    expect((await reveal(id, 2).expect(200)).body.secret).toEqual(passwordNumber(2));
  });

  it('should wipe a discarded pending version and never give its number again', async () => {
    const { id } = await createCredential(sut, admin, { path: 'store/discard' });
    const store = sut.app.get(VersionStore);

    const pending = await withLocked(id, (m, c) =>
      store.addPending(m, c, checkedSecret('password', passwordNumber(2)), null),
    );
    const discarded = await withLocked(id, (m) => store.discardPending(m, id, pending));
    await sut.http
      .put(`${API}/credentials/${id}/secret`)
      .set(admin)
      .send({ secret: passwordNumber(3) })
      .expect(200);

    expect(discarded).toBe(true);
    const rows = await versionsOf(id);
    expect(rows.map((r) => [r.version, r.state])).toEqual([
      [1, 'previous'],
      [2, 'destroyed'],
      [3, 'current'],
    ]);
    expect(rows[1]).toMatchObject({
      live_state: null,
      ciphertext: null,
      iv: null,
      tag: null,
      wrapped_dek: null,
      fingerprint: null,
    });
    const fingerprinted = await db.query<{ version: number }[]>(
      'SELECT version FROM credential_fingerprints WHERE credential_id = ? ORDER BY version',
      [id],
    );
    expect(fingerprinted.map((r) => Number(r.version))).toEqual([1, 3]);
    await reveal(id, 2).expect(409);
  });

  it("should delete every fingerprint of a crypto-shredded credential's versions", async () => {
    const { id } = await createCredential(sut, admin, { path: 'store/shred' });
    const store = sut.app.get(VersionStore);
    const fingerprints = () =>
      db.query('SELECT version FROM credential_fingerprints WHERE credential_id = ?', [id]);
    expect(await fingerprints()).toHaveLength(1);

    await withLocked(id, (m) => store.destroyAll(m, id));

    expect(await fingerprints()).toEqual([]);
  });
});
