import { randomBytes } from 'node:crypto';
import { DataSource, MigrationInterface } from 'typeorm';
import { CredentialFingerprintBackfill1764000002200 as MariadbListing } from '../migrations/mariadb/1764000002200-credential-fingerprint-backfill';
import { CredentialFingerprintBackfill1764000002200 as SqliteListing } from '../migrations/sqlite/1764000002200-credential-fingerprint-backfill';
import { FingerprintBackfill } from '../src/credentials/fingerprint-backfill';
import type { CredentialType } from '../src/credentials/secrets/credential-type';
import { VersionCrypto } from '../src/credentials/version-crypto';
import { createScratchSqlite, ScratchDatabase } from '../src/database/cli/scratch-database';
import { createCredential, Headers } from './helpers/credential-fixtures';
import { randomMasterKey, scratchMariadb, startApp, TestApp, bearerFor } from './helpers/test-app';

const API = '/api/v1';

interface ScanAnswer {
  matches: { credentialId: string; version: number }[];
}

interface StoredVersion {
  credentialId: string;
  version: number;
  type: CredentialType;
  ciphertext: Buffer | null;
  iv: string | null;
  tag: string | null;
  wrappedDek: string | null;
  kekId: string | null;
}

/** A generated password's shape: letters and digits, so a DSN cuts it out only by its length. */
const password = () => `Pw${randomBytes(12).toString('hex')}`;

const DIALECTS = [
  ['MariaDB', scratchMariadb, 2, MariadbListing],
  // One instance only: SQLite is the single-instance default.
  ['SQLite', () => Promise.resolve(createScratchSqlite()), 1, SqliteListing],
] as const;

/**
 * The upgrade gap of the leak scan: versions stored before every value had a fingerprint with
 * its length keep only the one fingerprint migration 1764000002000 copied, without a length.
 * Each test makes that state by rewriting the rows as the migration left them and listing them
 * with migration 1764000002200's own up(); the background backfill must then complete them, and
 * must leave exactly the rows of the live versions when it races writes, shreds and a re-wrap.
 */
describe.each(DIALECTS)('Leak-scan fingerprint backfill (%s)', (_, scratch, instances, Listing) => {
  const k1 = randomMasterKey();
  const k2 = randomMasterKey();
  const env = {
    CUSTOS_MASTER_KEY: undefined,
    CUSTOS_MASTER_KEYS: `k1:${k1},k2:${k2}`,
    JWT_SECRET: randomBytes(36).toString('base64'),
    THROTTLE_LIMIT: '100000',
    LOGIN_THROTTLE_LIMIT: '100000',
    // Small batches: a pass spans many transactions, which the race below interleaves with.
    KEYS_REWRAP_BATCH_SIZE: '2',
  };
  let database: ScratchDatabase;
  let apps: TestApp[];
  let db: DataSource;
  let admin: Headers;

  beforeAll(async () => {
    database = await scratch();
    apps = [await startApp(database, { env })];
    for (let i = 1; i < instances; i++) apps.push(await startApp(database, { env }));
    db = apps[0].app.get(DataSource);
    admin = { authorization: await bearerFor(apps[0], 'admin') };
  });

  afterAll(async () => {
    for (const app of (apps ?? []).reverse()) await app.close();
    await database?.drop();
  });

  const backfill = (i = 0) => apps[i].app.get(FingerprintBackfill);

  /** The database as an upgrade from before 1764000002000 leaves it, listed by 1764000002200. */
  async function asUpgraded(): Promise<void> {
    await db.query('DELETE FROM credential_fingerprints');
    await db.query(
      'INSERT INTO credential_fingerprints (credential_id, version, fingerprint, value_length) ' +
        'SELECT credential_id, version, fingerprint, NULL FROM credential_versions ' +
        'WHERE fingerprint IS NOT NULL',
    );
    const runner = db.createQueryRunner();
    try {
      const listing: MigrationInterface = new Listing();
      await listing.down(runner);
      await listing.up(runner);
    } finally {
      await runner.release();
    }
  }

  const listed = async () =>
    Number(
      (
        await db.query<{ n: number }[]>('SELECT COUNT(*) AS n FROM credential_fingerprint_backfill')
      )[0].n,
    );

  async function scan(text: string): Promise<ScanAnswer['matches']> {
    const { body } = await apps[0].http.post(`${API}/scan`).set(admin).send({ text }).expect(200);
    return (body as ScanAnswer).matches;
  }

  async function put(id: string, secret: Record<string, unknown>): Promise<void> {
    await apps[apps.length - 1].http
      .put(`${API}/credentials/${id}/secret`)
      .set(admin)
      .send({ secret })
      .expect(200);
  }

  /**
   * Every version's rows against what its value gives now, under the key that wraps it: a live
   * version has exactly those (lengths known), a wiped or pruned one none.
   */
  async function expectRowsOfLiveVersionsOnly(): Promise<void> {
    const crypto = apps[0].app.get(VersionCrypto);
    const versions = await db.query<StoredVersion[]>(
      'SELECT v.credential_id AS credentialId, v.version, c.type, v.ciphertext, v.iv, v.tag, ' +
        'v.wrapped_dek AS wrappedDek, v.kek_id AS kekId FROM credential_versions v ' +
        'JOIN credentials c ON c.id = v.credential_id',
    );
    const rows = await db.query<
      { credentialId: string; version: number; fingerprint: string; valueLength: number | null }[]
    >(
      'SELECT credential_id AS credentialId, version, fingerprint, value_length AS valueLength ' +
        'FROM credential_fingerprints',
    );
    const key = (r: { credentialId: string; version: number | string }) =>
      `${r.credentialId}/${Number(r.version)}`;
    const actual = rows.map((r) => `${key(r)}:${r.fingerprint}:${r.valueLength}`).sort();
    const expected = versions
      .filter((v) => v.wrappedDek !== null)
      .flatMap((v) => {
        const secret = crypto.open(v.credentialId, { ...v, version: Number(v.version) });
        return crypto
          .fingerprints(v.kekId!, v.type, secret)
          .map((f) => `${key(v)}:${f.fingerprint}:${f.valueLength}`);
      })
      .sort();
    expect(actual).toEqual(expected);
  }

  describe('after an upgrade', () => {
    const old = password();
    const current = password();
    const accessKeyId = `AKIA${randomBytes(8).toString('hex').toUpperCase()}`;
    const secretAccessKey = randomBytes(30).toString('base64url');
    const dsnPassword = password();
    let passwordId: string;
    let kvId: string;
    let dsnId: string;

    beforeAll(async () => {
      passwordId = (
        await createCredential(apps[0], admin, {
          path: 'upgrade/mysql',
          secret: { password: old },
        })
      ).id;
      await put(passwordId, { password: current });
      kvId = (
        await createCredential(apps[0], admin, {
          path: 'upgrade/aws',
          type: 'kv',
          secret: { accessKeyId, secretAccessKey },
        })
      ).id;
      dsnId = (
        await createCredential(apps[0], admin, {
          path: 'upgrade/reporting-dsn',
          type: 'connection_string',
          secret: { connectionString: `postgres://report:${dsnPassword}@pg.internal:5432/bi` },
        })
      ).id;
      await asUpgraded();
    });

    it('should list every live version the upgrade left incomplete', async () => {
      expect(await listed()).toBe(4);
      const lengths = await db.query<{ valueLength: number | null }[]>(
        'SELECT value_length AS valueLength FROM credential_fingerprints',
      );
      expect(lengths.map((r) => r.valueLength)).toEqual([null, null, null, null]);
    });

    it('should not find an upgraded password inside a DSN, nor a kv value other than the longest, before the backfill', async () => {
      expect(await scan(`DATABASE_URL=mysql://app:${current}@db.internal:3306/app`)).toEqual([]);
      expect(await scan(`aws_access_key_id ${accessKeyId}`)).toEqual([]);
      expect(await scan(`PGPASSWORD=${dsnPassword}`)).toEqual([]);
    });

    it('should complete the rows of every listed version, and empty the list', async () => {
      const pass = await backfill().run();

      expect(pass).toEqual({ filled: 4, gone: 0, failed: 0 });
      expect(await listed()).toBe(0);
      await expectRowsOfLiveVersionsOnly();
      const kvRows = await db.query<unknown[]>(
        'SELECT fingerprint FROM credential_fingerprints WHERE credential_id = ?',
        [kvId],
      );
      expect(kvRows).toHaveLength(2);
    });

    it('should then find the pre-upgrade password inside a DSN and the second kv value', async () => {
      const inDsn = await scan(`DATABASE_URL=mysql://app:${current}@db.internal:3306/app`);
      expect(inDsn).toEqual([expect.objectContaining({ credentialId: passwordId, version: 2 })]);
      const previous = await scan(`jdbc:mysql://db/app?user=app&password=${old}&ssl=true`);
      expect(previous).toEqual([expect.objectContaining({ credentialId: passwordId, version: 1 })]);
      expect(await scan(`aws_access_key_id ${accessKeyId}`)).toEqual([
        expect.objectContaining({ credentialId: kvId, version: 1 }),
      ]);
    });

    it("should then find a connection string's password leaked on its own", async () => {
      expect(await scan(`PGPASSWORD=${dsnPassword}`)).toEqual([
        expect.objectContaining({ credentialId: dsnId, version: 1 }),
      ]);
    });

    it('should do nothing on a pass that finds the list empty', async () => {
      await expect(backfill().run()).resolves.toEqual({ filled: 0, gone: 0, failed: 0 });
      await expectRowsOfLiveVersionsOnly();
    });
  });

  describe('racing writes, shreds and a master-key re-wrap', () => {
    const ids: string[] = [];

    beforeAll(async () => {
      for (let i = 0; i < 8; i++) {
        const kv = i % 2 === 1;
        const secret = () =>
          kv ? { user: `user-${i}-${password()}`, token: password() } : { password: password() };
        const { id } = await createCredential(apps[0], admin, {
          path: `race/c-${i}`,
          type: kv ? 'kv' : 'password',
          secret: secret(),
        });
        await put(id, secret());
        ids.push(id);
      }
      await asUpgraded();
    });

    it('should leave exactly the rows of the live versions, under the key that wraps each', async () => {
      const listedBefore = await listed();
      expect(listedBefore).toBeGreaterThanOrEqual(16);
      const rewrap = async () => {
        await apps[0].http.post(`${API}/keys/rotate`).set(admin).send({}).expect(202);
        for (const deadline = Date.now() + 30_000; ;) {
          const { body } = await apps[0].http.get(`${API}/keys/status`).set(admin).expect(200);
          const status = body as { remaining: number; rewrap: { state: string } };
          if (status.remaining === 0 && status.rewrap.state === 'done') return;
          if (status.rewrap.state === 'failed' || Date.now() > deadline)
            throw new Error(`re-wrap did not finish: ${JSON.stringify(status)}`);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      };
      const shred = (id: string) =>
        apps[apps.length - 1].http.post(`${API}/credentials/${id}/destroy`).set(admin).expect(204);

      const passes = await Promise.all([
        backfill(0).run(),
        backfill(apps.length - 1).run(),
        put(ids[0], { password: password() }),
        shred(ids[2]),
        rewrap(),
        put(ids[1], { user: 'race-user-1', token: password() }),
        shred(ids[5]),
        put(ids[6], { password: password() }),
      ]);
      // What a lease held elsewhere left (or what a re-wrap took off the list) is done by one more.
      const last = await backfill().run();

      expect(await listed()).toBe(0);
      // The racing passes did work themselves, beside the writes (not all left to the last one).
      expect(passes[0].filled + passes[1].filled).toBeGreaterThan(0);
      const results = [passes[0], passes[1], last] as { failed: number }[];
      expect(results.every((r) => r.failed === 0)).toBe(true);
      await expectRowsOfLiveVersionsOnly();
      const shredded = await db.query<unknown[]>(
        'SELECT fingerprint FROM credential_fingerprints WHERE credential_id IN (?, ?)',
        [ids[2], ids[5]],
      );
      expect(shredded).toEqual([]);
      const keys = await db.query<{ kekId: string }[]>(
        'SELECT DISTINCT kek_id AS kekId FROM credential_versions WHERE wrapped_dek IS NOT NULL',
      );
      expect(keys).toEqual([{ kekId: 'k2' }]);
    });
  });
  describe('a shred that commits while the backfill waits on the version', () => {
    // SQLite has one writer at a time: a pass and a shred never overlap there.
    const mariadbOnly = instances > 1 ? it : it.skip;

    mariadbOnly('should give the shredded version no fingerprint back', async () => {
      const { id } = await createCredential(apps[0], admin, {
        path: 'shred/while-waiting',
        secret: { password: password() },
      });
      await asUpgraded();
      const holder = db.createQueryRunner();
      await holder.connect();
      let pass: ReturnType<FingerprintBackfill['run']> | undefined;
      try {
        await holder.startTransaction();
        await holder.query(
          'SELECT version FROM credential_versions WHERE credential_id = ? FOR UPDATE',
          [id],
        );
        pass = backfill().run();
        // Long enough for the pass to list the version and wait for its row lock.
        await new Promise((resolve) => setTimeout(resolve, 500));
        // What a shred does (VersionStore.destroyAll), committed while the pass waits.
        await holder.query(
          'UPDATE credential_versions SET state = ?, live_state = NULL, ciphertext = NULL, ' +
            'iv = NULL, tag = NULL, wrapped_dek = NULL, destroyed_at = UTC_TIMESTAMP(3) ' +
            'WHERE credential_id = ?',
          ['destroyed', id],
        );
        await holder.query('DELETE FROM credential_fingerprints WHERE credential_id = ?', [id]);
        await holder.commitTransaction();
      } finally {
        if (holder.isTransactionActive) await holder.rollbackTransaction();
        await holder.release();
      }

      const done = await pass;

      expect(done).toEqual(expect.objectContaining({ gone: 1, failed: 0 }));
      const rows = await db.query<unknown[]>(
        'SELECT fingerprint FROM credential_fingerprints WHERE credential_id = ?',
        [id],
      );
      expect(rows).toEqual([]);
      expect(await listed()).toBe(0);
      await expectRowsOfLiveVersionsOnly();
    });
  });
});
