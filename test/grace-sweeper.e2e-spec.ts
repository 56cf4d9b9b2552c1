import { DataSource } from 'typeorm';
import { createScratchSqlite, ScratchDatabase } from '../src/database/cli/scratch-database';
import { ExpiryWatch } from '../src/rotation/sweeper/expiry-watch';
import { GraceSweeper } from '../src/rotation/sweeper/grace-sweeper';
import { createCredential, Headers, passwordNumber } from './helpers/credential-fixtures';
import { bearerFor, scratchMariadb, startApp, TestApp } from './helpers/test-app';

const API = '/api/v1';
const BASE_ENV = {
  JWT_SECRET: 'grace-sweeper-e2e-jwt-secret-0123456789abcdef',
  THROTTLE_LIMIT: '100000',
  LOGIN_THROTTLE_LIMIT: '100000',
  AUDIT_SINKS: 'none',
  // The tests sweep themselves; no scheduled pass may run in between.
  ROTATION_SCHEDULER_ENABLED: 'false',
};
const DAY_MS = 24 * 3600 * 1000;

interface EventRow {
  action: string;
  actor_type: string;
  resource_id: string;
  details: string;
}

interface OutboxRow {
  type: string;
  resource_id: string;
  path: string | null;
  payload: string;
}

const DIALECTS = [
  ['MariaDB', scratchMariadb, 2],
  // One instance only: SQLite is the single-instance default.
  ['SQLite', () => Promise.resolve(createScratchSqlite()), 1],
] as const;

describe.each(DIALECTS)('Grace sweeper and expiry watch (%s)', (dialect, scratch, instances) => {
  let database: ScratchDatabase;
  let apps: TestApp[];
  let sut: TestApp;
  let db: DataSource;
  let admin: Headers;

  beforeAll(async () => {
    database = await scratch();
    sut = await startApp(database, { env: BASE_ENV });
    // A second instance on the same database and master key, as in production.
    apps = [sut];
    for (let i = 1; i < instances; i++) {
      apps.push(
        await startApp(database, {
          env: { ...BASE_ENV, CUSTOS_MASTER_KEY: sut.env.CUSTOS_MASTER_KEY },
        }),
      );
    }
    db = sut.app.get(DataSource);
    admin = { authorization: await bearerFor(sut, 'admin') };
  });

  afterAll(async () => {
    for (const app of (apps ?? []).reverse()) await app.close();
    await database?.drop();
  });

  /** Two sweeps on every instance at once: each version must still be reported once. */
  const raceSweeps = async () => {
    const results = await Promise.all(
      apps.flatMap((app) => [app.app.get(GraceSweeper).sweep(), app.app.get(GraceSweeper).sweep()]),
    );
    return {
      revoked: results.reduce((sum, r) => sum + r.revoked, 0),
      destroyed: results.reduce((sum, r) => sum + r.destroyed, 0),
    };
  };

  const raceWatches = async () => {
    const counts = await Promise.all(
      apps.flatMap((app) => [app.app.get(ExpiryWatch).watch(), app.app.get(ExpiryWatch).watch()]),
    );
    return counts.reduce((sum, n) => sum + n, 0);
  };

  const sql = (mariadb: string, sqlite: string) => (dialect === 'MariaDB' ? mariadb : sqlite);
  /** The database clock `seconds` from now, in each dialect. */
  const clockPlus = (seconds: number) =>
    sql(
      `UTC_TIMESTAMP(3) + INTERVAL ${seconds} SECOND`,
      `strftime('%Y-%m-%d %H:%M:%f', 'now', '${seconds} seconds')`,
    );

  const eventsOf = (action: string, ids: string[]) =>
    db.query<EventRow[]>(
      `SELECT action, actor_type, resource_id, details FROM audit_events WHERE action = ? AND resource_id IN (${ids.map(() => '?').join(', ')}) ORDER BY seq`,
      [action, ...ids],
    );

  const outboxOf = (type: string, ids: string[]) =>
    db.query<OutboxRow[]>(
      `SELECT type, resource_id, path, payload FROM event_outbox WHERE type = ? AND resource_id IN (${ids.map(() => '?').join(', ')}) ORDER BY seq`,
      [type, ...ids],
    );

  const versionRow = async (id: string, version: number) => {
    const [row] = await db.query<Record<string, unknown>[]>(
      'SELECT state, grace_until, revoked_at, destroyed_at, ciphertext, iv, tag, wrapped_dek, fingerprint ' +
        'FROM credential_versions WHERE credential_id = ? AND version = ?',
      [id, version],
    );
    return row;
  };

  const reveal = (id: string, version: number) =>
    sut.http.post(`${API}/credentials/${id}/reveal`).set(admin).send({ version });

  /** Credentials with version 1 previous (its grace running) and version 2 current. */
  const withPrevious = async (prefix: string, count: number): Promise<string[]> => {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const { id } = await createCredential(sut, admin, {
        path: `${prefix}/c${i}`,
        secret: passwordNumber(1),
      });
      await sut.http
        .put(`${API}/credentials/${id}/secret`)
        .set(admin)
        .send({ secret: passwordNumber(2) })
        .expect(200);
      ids.push(id);
    }
    return ids;
  };

  const endGrace = (ids: string[], secondsAgo = 2) =>
    db.query(
      `UPDATE credential_versions SET grace_until = ${clockPlus(-secondsAgo)} ` +
        `WHERE state = 'previous' AND credential_id IN (${ids.map(() => '?').join(', ')})`,
      ids,
    );

  describe('the end of a grace period', () => {
    let ids: string[];

    beforeAll(async () => {
      ids = await withPrevious('sweep/grace', 12);
    });

    it('should leave a previous version revealable inside its grace and not sweep it', async () => {
      expect((await reveal(ids[0], 1).expect(200)).body).toMatchObject({
        version: 1,
        state: 'previous',
        secret: passwordNumber(1),
      });

      await raceSweeps();

      expect(await versionRow(ids[0], 1)).toMatchObject({ state: 'previous' });
      expect(await eventsOf('credential.version.revoked', ids)).toEqual([]);
    });

    it('should refuse the previous version once its grace has passed, even before a sweep', async () => {
      await endGrace(ids);

      await reveal(ids[0], 1).expect(409);
      expect(await versionRow(ids[0], 1)).toMatchObject({ state: 'previous' });
    });

    it('should revoke each expired version once, with one audit and one outbox event, however many sweeps race', async () => {
      const swept = await raceSweeps();

      expect(swept.revoked).toBe(ids.length);
      const events = await eventsOf('credential.version.revoked', ids);
      expect(events.map((e) => e.resource_id).sort()).toEqual([...ids].sort());
      const outbox = await outboxOf('credential.version.revoked', ids);
      expect(outbox.map((e) => e.resource_id).sort()).toEqual([...ids].sort());
      for (const id of ids) {
        const row = await versionRow(id, 1);
        expect(row.state).toBe('revoked');
        // Revoked as of the end of its grace, which the sweep only wrote down.
        expect(String(row.revoked_at)).toBe(String(row.grace_until));
      }
      await reveal(ids[0], 1).expect(409);
      expect((await reveal(ids[0], 2).expect(200)).body.state).toBe('current');
    });

    it('should say what was revoked, by the system, and never the value', async () => {
      const [event] = await eventsOf('credential.version.revoked', [ids[0]]);
      const row = await versionRow(ids[0], 1);
      const details = JSON.parse(event.details) as Record<string, unknown>;
      expect(event.actor_type).toBe('system');
      expect(details).toEqual({
        credentialId: ids[0],
        path: 'sweep/grace/c0',
        version: 1,
        graceUntil: new Date(
          row.grace_until instanceof Date ? row.grace_until : `${String(row.grace_until)}Z`,
        ).toISOString(),
      });
      const [published] = await outboxOf('credential.version.revoked', [ids[0]]);
      expect(published.path).toBe('sweep/grace/c0');
      expect(JSON.parse(published.payload)).toEqual({ ...details, reason: 'grace_ended' });
      expect(JSON.stringify([event, published])).not.toContain('password-number');
    });

    it('should find nothing more on the next sweeps', async () => {
      expect(await raceSweeps()).toEqual({ revoked: 0, destroyed: 0 });
      expect(await eventsOf('credential.version.revoked', ids)).toHaveLength(ids.length);
    });
  });

  describe('the end of retention', () => {
    let ids: string[];

    beforeAll(async () => {
      ids = await withPrevious('sweep/retention', 6);
      await endGrace(ids);
      await raceSweeps();
    });

    it('should keep the ciphertext of a revoked version until ROTATION_DESTROY_AFTER has passed', async () => {
      expect((await raceSweeps()).destroyed).toBe(0);
      expect(await versionRow(ids[0], 1)).toMatchObject({ state: 'revoked' });
      expect((await versionRow(ids[0], 1)).ciphertext).not.toBeNull();
    });

    it('should wipe it afterwards, once, with one audit event each', async () => {
      await db.query(
        `UPDATE credential_versions SET revoked_at = ${clockPlus(-31 * 24 * 3600)} ` +
          `WHERE state = 'revoked' AND credential_id IN (${ids.map(() => '?').join(', ')})`,
        ids,
      );

      const swept = await raceSweeps();

      expect(swept).toEqual({ revoked: 0, destroyed: ids.length });
      for (const id of ids) {
        expect(await versionRow(id, 1)).toMatchObject({
          state: 'destroyed',
          ciphertext: null,
          iv: null,
          tag: null,
          wrapped_dek: null,
          fingerprint: null,
        });
        expect((await versionRow(id, 1)).destroyed_at).not.toBeNull();
        expect(await versionRow(id, 2)).toMatchObject({ state: 'current' });
      }
      const events = await eventsOf('credential.version.destroyed', ids);
      expect(events.map((e) => e.resource_id).sort()).toEqual([...ids].sort());
      expect(JSON.parse(events[0].details)).toMatchObject({
        version: 1,
        reason: 'retention_ended',
      });
      await reveal(ids[0], 1).expect(409);
    });
  });

  describe('expiry warnings', () => {
    const inDays = (days: number) => new Date(Date.now() + days * DAY_MS).toISOString();
    let soon: string;
    let later: string;
    let expired: string;

    beforeAll(async () => {
      soon = (await createCredential(sut, admin, { path: 'expiry/soon', expiresAt: inDays(7) })).id;
      later = (await createCredential(sut, admin, { path: 'expiry/later', expiresAt: inDays(30) }))
        .id;
      expired = (
        await createCredential(sut, admin, { path: 'expiry/expired', expiresAt: inDays(-1) })
      ).id;
    });

    const ours = () => [soon, later, expired];

    it('should warn once for each credential expiring within CREDENTIALS_EXPIRY_WARNING, however many watches race', async () => {
      const updatedBefore = await db.query<{ updated_at: unknown }[]>(
        'SELECT updated_at FROM credentials WHERE id = ?',
        [soon],
      );

      expect(await raceWatches()).toBe(2);
      expect(await raceWatches()).toBe(0);

      const events = await eventsOf('credential.expiring', ours());
      expect(events.map((e) => e.resource_id).sort()).toEqual([soon, expired].sort());
      const [warned] = events.filter((e) => e.resource_id === soon);
      expect(warned.actor_type).toBe('system');
      const [row] = await db.query<
        { expires_at: unknown; expiry_warned_for: unknown; updated_at: unknown }[]
      >('SELECT expires_at, expiry_warned_for, updated_at FROM credentials WHERE id = ?', [soon]);
      expect(String(row.expiry_warned_for)).toBe(String(row.expires_at));
      // Bookkeeping, not a change of the credential.
      expect(String(row.updated_at)).toBe(String(updatedBefore[0].updated_at));
      const details = JSON.parse(warned.details) as Record<string, unknown>;
      expect(details).toEqual({
        path: 'expiry/soon',
        type: 'password',
        expiresAt: expect.stringMatching(/Z$/),
      });
      const outbox = await outboxOf('credential.expiring', ours());
      expect(outbox.map((e) => e.resource_id).sort()).toEqual([soon, expired].sort());
      expect(JSON.parse(outbox.find((e) => e.resource_id === soon)!.payload)).toEqual({
        credentialId: soon,
        ...details,
      });
    });

    it('should warn again for a new expiry, and not for one outside the window', async () => {
      await sut.http
        .patch(`${API}/credentials/${soon}`)
        .set(admin)
        .send({ expiresAt: inDays(10) })
        .expect(200);
      await sut.http
        .patch(`${API}/credentials/${later}`)
        .set(admin)
        .send({ expiresAt: inDays(60) })
        .expect(200);

      expect(await raceWatches()).toBe(1);

      const events = await eventsOf('credential.expiring', [soon]);
      expect(events).toHaveLength(2);
      expect(JSON.parse(events[1].details).expiresAt).not.toBe(
        JSON.parse(events[0].details).expiresAt,
      );
      expect(await eventsOf('credential.expiring', [later])).toEqual([]);
    });

    it('should not warn for a deleted credential', async () => {
      const { id } = await createCredential(sut, admin, {
        path: 'expiry/deleted',
        expiresAt: inDays(3),
      });
      await sut.http.delete(`${API}/credentials/${id}`).set(admin).expect(204);

      expect(await raceWatches()).toBe(0);
      expect(await eventsOf('credential.expiring', [id])).toEqual([]);
    });
  });
});
