import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { generate } from 'otplib';
import { DataSource } from 'typeorm';
import { UsersService } from '../src/auth/users/users.service';
import { ACTIVE_KEY_REFRESH_MS } from '../src/crypto/keyring.service';
import { ScratchDatabase } from '../src/database/cli/scratch-database';
import { KeyRotationService } from '../src/keys/key-rotation.service';
import { openDirect } from './helpers/audit-db';
import { serviceWithGrants } from './helpers/principals';
import { ensureBuilt } from './helpers/spawned-app';
import { bearerFor, randomMasterKey, scratchMariadb, startApp, TestApp } from './helpers/test-app';

const ROOT = join(__dirname, '..');
const CLI = join(ROOT, 'dist', 'src', 'cli', 'cli.js');
const JWT_SECRET = randomBytes(36).toString('base64');
const STRONG = `Tq8!${randomBytes(12).toString('base64url')}`;

type Keys = Record<string, string>;

/**
 * The environment of an instance holding exactly these master keys, by id. A fixed JWT secret
 * (as production requires) keeps an admin's token valid across restarts; throttling is lifted
 * because the reveal loop is one client.
 */
function keysEnv(keys: Keys, extra: Record<string, string | undefined> = {}) {
  return {
    CUSTOS_MASTER_KEY: undefined,
    CUSTOS_MASTER_KEY_FILE: undefined,
    CUSTOS_MASTER_KEYS_DIR: undefined,
    CUSTOS_MASTER_KEY_ID: undefined,
    CUSTOS_MASTER_KEYS: keyList(keys),
    JWT_SECRET,
    THROTTLE_LIMIT: '100000',
    LOGIN_THROTTLE_LIMIT: '1000',
    ...extra,
  };
}

function keyList(keys: Keys): string {
  return Object.entries(keys)
    .map(([id, key]) => `${id}:${key}`)
    .join(',');
}

/** A credential and the password of each of its versions, the last one current. */
interface StoredSecret {
  id: string;
  passwords: string[];
}

interface KeyReportBody {
  id: string;
  status: string;
  configured: boolean;
  references: Record<string, number>;
  removable: boolean;
  note: string;
}

interface KeyStatusBody {
  activeKeyId: string;
  remaining: number;
  rewrap: { state: string; rewrapped: Record<string, number>; error: string | null };
  keys: KeyReportBody[];
}

interface VersionRow {
  credentialId: string;
  version: number;
  kekId: string;
  fingerprint: string | null;
}

interface KeyringRow {
  id: string;
  status: string;
  check_value: string;
}

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

interface CliKeyLine {
  id: string;
  status: string;
  configured: boolean;
  references: Record<string, number>;
  removable: boolean;
  note: string;
}

/** The key lines of `keys:rotate`: `<id> <status>[ (not configured)]: <references>. <note>` */
function keyLines(stdout: string): CliKeyLine[] {
  return stdout
    .trim()
    .split('\n')
    .flatMap((line) => {
      const match =
        /^(\S+) (active|retired|not-enrolled)( \(not configured\))?: (\{.*?\})\. (.*)$/.exec(line);
      if (!match) return [];
      return [
        {
          id: match[1],
          status: match[2],
          configured: !match[3],
          references: JSON.parse(match[4]) as Record<string, number>,
          removable: /can be removed/.test(match[5]),
          note: match[5],
        },
      ];
    });
}

const password = (): string => `pw-${randomBytes(12).toString('base64url')}`;

/** Creates `count` password credentials over HTTP; every `secondEvery`-th gets a second version. */
async function createSecrets(
  sut: TestApp,
  admin: string,
  count: number,
  prefix: string,
  secondEvery = 4,
): Promise<StoredSecret[]> {
  const created: StoredSecret[] = [];
  for (let start = 0; start < count; start += 8) {
    const chunk = Array.from({ length: Math.min(8, count - start) }, (_, i) => start + i);
    created.push(
      ...(await Promise.all(
        chunk.map(async (i) => {
          const first = password();
          const response = await sut.http
            .post('/api/v1/credentials')
            .set('authorization', admin)
            .send({
              path: `${prefix}/app-${i}`,
              name: `App ${i}`,
              type: 'password',
              secret: { password: first },
            })
            .expect(201);
          const stored: StoredSecret = {
            id: (response.body as { id: string }).id,
            passwords: [first],
          };
          if (i % secondEvery === 0) {
            const second = password();
            await sut.http
              .put(`/api/v1/credentials/${stored.id}/secret`)
              .set('authorization', admin)
              .send({ secret: { password: second } })
              .expect(200);
            stored.passwords.push(second);
          }
          return stored;
        }),
      )),
    );
  }
  return created;
}

const versionCount = (...groups: StoredSecret[][]): number =>
  groups.flat().reduce((sum, secret) => sum + secret.passwords.length, 0);

/** Reveals one version (default: the current one); returns a problem or null when it was right. */
async function revealProblem(
  sut: TestApp,
  admin: string,
  secret: StoredSecret,
  version = secret.passwords.length,
): Promise<string | null> {
  const response = await sut.http
    .post(`/api/v1/credentials/${secret.id}/reveal`)
    .set('authorization', admin)
    .send(version === secret.passwords.length ? {} : { version });
  if (response.status !== 200) {
    return `${secret.id} v${version}: ${response.status} ${JSON.stringify(response.body)}`;
  }
  const body = response.body as { version: number; secret: { password?: string } };
  if (body.version !== version || body.secret.password !== secret.passwords[version - 1]) {
    return `${secret.id} v${version}: wrong value or version (${body.version})`;
  }
  return null;
}

/** Reveals every version (or the current one) of every secret and expects each to be right. */
async function expectAllReveal(
  sut: TestApp,
  admin: string,
  secrets: StoredSecret[],
  versions: 'all' | 'current' = 'all',
): Promise<void> {
  const problems: string[] = [];
  const jobs = secrets.flatMap((secret) =>
    versions === 'current'
      ? [() => revealProblem(sut, admin, secret)]
      : secret.passwords.map((_, i) => () => revealProblem(sut, admin, secret, i + 1)),
  );
  for (let start = 0; start < jobs.length; start += 10) {
    const results = await Promise.all(jobs.slice(start, start + 10).map((job) => job()));
    problems.push(...results.filter((r): r is string => r !== null));
  }
  expect(problems).toEqual([]);
}

/** Reveals random secrets (current and previous versions) from a few workers until stopped. */
function startRevealLoop(sut: TestApp, admin: string, secrets: StoredSecret[], workers = 3) {
  let running = true;
  let count = 0;
  const problems: string[] = [];
  const loops = Array.from({ length: workers }, async () => {
    while (running) {
      const secret = secrets[Math.floor(Math.random() * secrets.length)];
      const version = 1 + Math.floor(Math.random() * secret.passwords.length);
      try {
        const problem = await revealProblem(sut, admin, secret, version);
        if (problem) problems.push(problem);
      } catch (error) {
        problems.push(`${secret.id}: ${(error as Error).message}`);
      }
      count++;
    }
  });
  return {
    count: () => count,
    async stop(): Promise<{ count: number; problems: string[] }> {
      running = false;
      await Promise.all(loops);
      return { count, problems };
    },
  };
}

/** Stores new versions of the given secrets one after another until stopped. */
function startWriteLoop(sut: TestApp, admin: string, secrets: StoredSecret[]) {
  let running = true;
  const problems: string[] = [];
  const loop = (async () => {
    for (let i = 0; running; i++) {
      const secret = secrets[i % secrets.length];
      const next = password();
      const response = await sut.http
        .put(`/api/v1/credentials/${secret.id}/secret`)
        .set('authorization', admin)
        .send({ secret: { password: next } });
      if (response.status === 200) secret.passwords.push(next);
      else problems.push(`${secret.id}: ${response.status} ${JSON.stringify(response.body)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  return {
    async stop(): Promise<string[]> {
      running = false;
      await loop;
      return problems;
    },
  };
}

async function keyStatus(sut: TestApp, admin: string): Promise<KeyStatusBody> {
  const response = await sut.http
    .get('/api/v1/keys/status')
    .set('authorization', admin)
    .expect(200);
  return response.body as KeyStatusBody;
}

/**
 * Polls the key status until nothing is left under an old key and the re-wrap run is done. A run
 * that failed fails at once; one that stays idle or done with work left, after two seconds.
 */
async function waitForRewrap(
  sut: TestApp,
  admin: string,
  timeoutMs = 20_000,
): Promise<KeyStatusBody> {
  const deadline = Date.now() + timeoutMs;
  let idleSince: number | undefined;
  for (;;) {
    const status = await keyStatus(sut, admin);
    if (status.remaining === 0 && status.rewrap.state === 'done') return status;
    // Idle, or done, while items are left: nobody is re-wrapping them.
    const stopped = status.rewrap.state === 'idle' || status.rewrap.state === 'done';
    idleSince = stopped ? (idleSince ?? Date.now()) : undefined;
    const stalled = idleSince !== undefined && Date.now() - idleSince > 2_000;
    if (status.rewrap.state === 'failed' || stalled || Date.now() > deadline) {
      throw new Error(`re-wrap did not finish: ${JSON.stringify(status)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const keyReport = (status: KeyStatusBody, id: string): KeyReportBody | undefined =>
  status.keys.find((key) => key.id === id);

const versionRows = (db: DataSource): Promise<VersionRow[]> =>
  db.query(
    'SELECT credential_id AS credentialId, version, kek_id AS kekId, fingerprint ' +
      'FROM credential_versions WHERE wrapped_dek IS NOT NULL ORDER BY credential_id, version',
  );

const keyringRows = (db: DataSource): Promise<KeyringRow[]> =>
  db.query('SELECT id, status, check_value FROM keyring ORDER BY id');

const countOf = async (db: DataSource, table: string): Promise<number> => {
  const [{ n }] = await db.query<{ n: string | number }[]>(`SELECT COUNT(*) AS n FROM ${table}`);
  return Number(n);
};

describe('Master-key rotation (MariaDB)', () => {
  describe('a full rotation while reads go on', () => {
    const k1 = randomMasterKey();
    const k2 = randomMasterKey();
    let database: ScratchDatabase;
    let db: DataSource;
    let admin: string;
    let secrets: StoredSecret[];
    let written: StoredSecret[];
    let before: VersionRow[];
    const totpUser = { email: 'totp-rotation@example.test', id: '', secret: '' };

    beforeAll(async () => {
      database = await scratchMariadb();
      const first = await startApp(database, { env: keysEnv({ k1 }) });
      try {
        admin = await bearerFor(first, 'admin');
        secrets = await createSecrets(first, admin, 40, 'rotation');
        written = await createSecrets(first, admin, 4, 'written', 1000);
        const user = await first.app
          .get(UsersService)
          .create({ email: totpUser.email, password: STRONG, role: 'viewer' });
        totpUser.id = user.id;
        const login = await first.http
          .post('/api/v1/auth/login')
          .send({ email: totpUser.email, password: STRONG })
          .expect(200);
        const auth = `Bearer ${(login.body as { accessToken: string }).accessToken}`;
        const enrolled = await first.http
          .post('/api/v1/auth/mfa/totp/enrol')
          .set('authorization', auth)
          .expect(200);
        totpUser.secret = (enrolled.body as { secret: string }).secret;
        await first.http
          .post('/api/v1/auth/mfa/totp/confirm')
          .set('authorization', auth)
          .send({
            code: await generate({ secret: totpUser.secret, epoch: Date.now() / 1000 - 30 }),
          })
          .expect(204);
      } finally {
        await first.close();
      }
      db = await openDirect(database);
      const mine = new Set(secrets.map((secret) => secret.id));
      before = (await versionRows(db)).filter((row) => mine.has(row.credentialId));
    });

    afterAll(async () => {
      await db?.destroy();
      await database?.drop();
    });

    it('should start with every data key and the TOTP secret under k1', async () => {
      expect(before).toHaveLength(50);
      expect(new Set((await versionRows(db)).map((row) => row.kekId))).toEqual(new Set(['k1']));
      expect(before.every((row) => /^[0-9a-f]{64}$/.test(row.fingerprint ?? ''))).toBe(true);
      const [user] = await db.query<{ mfa_secret: string }[]>(
        'SELECT mfa_secret FROM users WHERE id = ?',
        [totpUser.id],
      );
      expect(user.mfa_secret).toMatch(/^k1:/);
    });

    describe('with k1 and k2 configured', () => {
      let sut: TestApp;

      beforeAll(async () => {
        sut = await startApp(database, {
          env: keysEnv({ k1, k2 }, { KEYS_REWRAP_BATCH_SIZE: '5' }),
        });
      });

      afterAll(() => sut.close());

      it('should report k1 active and k2 configured but not enrolled', async () => {
        const status = await keyStatus(sut, admin);
        expect(status).toMatchObject({ activeKeyId: 'k1', remaining: 0 });
        expect(keyReport(status, 'k1')).toMatchObject({
          status: 'active',
          configured: true,
          removable: false,
          references: {
            secretVersions: versionCount(secrets, written),
            totpSecrets: 1,
            webhookSecrets: 0,
          },
        });
        expect(keyReport(status, 'k2')).toMatchObject({
          status: 'not-enrolled',
          configured: true,
          references: { secretVersions: 0, totpSecrets: 0, webhookSecrets: 0 },
        });
        expect((await keyringRows(db)).map((row) => row.id)).toEqual(['k1']);
      });

      it('should activate k2 at once and re-wrap everything while reveals and writes go on', async () => {
        const reveals = startRevealLoop(sut, admin, secrets);
        const writes = startWriteLoop(sut, admin, written);
        await new Promise((resolve) => setTimeout(resolve, 150));
        const revealsBefore = reveals.count();
        const rotated = await sut.http
          .post('/api/v1/keys/rotate')
          .set('authorization', admin)
          .send({})
          .expect(202);
        const answer = rotated.body as KeyStatusBody;
        expect(answer.activeKeyId).toBe('k2');
        expect(keyReport(answer, 'k2')?.status).toBe('active');
        expect(keyReport(answer, 'k1')?.status).toBe('retired');
        // It answers at once; the re-wrap goes on in the background.
        expect(answer.remaining).toBeGreaterThan(0);

        const done = await waitForRewrap(sut, admin);
        await new Promise((resolve) => setTimeout(resolve, 100));
        const revealed = await reveals.stop();
        expect(revealed.problems).toEqual([]);
        expect(revealed.count).toBeGreaterThan(revealsBefore);
        expect(await writes.stop()).toEqual([]);

        expect(done.activeKeyId).toBe('k2');
        expect(done.rewrap).toMatchObject({ state: 'done', error: null });
        expect(done.rewrap.rewrapped.totpSecrets).toBe(1);
        expect(done.rewrap.rewrapped.secretVersions).toBeGreaterThanOrEqual(55);
        expect(keyReport(done, 'k1')).toMatchObject({
          status: 'retired',
          configured: true,
          removable: true,
          // Its audit events from before the switch still need it to verify.
          signsAuditEvents: true,
          references: { secretVersions: 0, totpSecrets: 0, webhookSecrets: 0 },
        });
        expect(keyReport(done, 'k2')).toMatchObject({
          status: 'active',
          configured: true,
          removable: false,
        });
        expect(keyReport(done, 'k2')?.references.totpSecrets).toBe(1);
        expect(await keyringRows(db)).toEqual([
          { id: 'k1', status: 'retired', check_value: expect.any(String) },
          { id: 'k2', status: 'active', check_value: expect.any(String) },
        ]);
      });

      it('should have moved every data key to k2 with a new fingerprint', async () => {
        const all = await versionRows(db);
        expect(all.filter((row) => row.kekId !== 'k2')).toEqual([]);
        const after = new Map(all.map((row) => [`${row.credentialId}/${row.version}`, row]));
        for (const row of before) {
          const moved = after.get(`${row.credentialId}/${row.version}`);
          expect(moved?.fingerprint).toMatch(/^[0-9a-f]{64}$/);
          expect(moved?.fingerprint).not.toBe(row.fingerprint);
        }
        // The versions written during the rotation were sealed under k2 directly.
        await expectAllReveal(sut, admin, written, 'current');
      });

      it('should record the rotation and the end of the re-wrap in the audit log, once each', async () => {
        const events = await db.query<{ action: string; resource_id: string; key_id: string }[]>(
          "SELECT action, resource_id, key_id FROM audit_events WHERE action LIKE 'keys.r%' ORDER BY seq",
        );
        expect(events).toEqual([
          // Chained in the activating transaction, still under the key it replaces.
          { action: 'keys.rotate', resource_id: 'k2', key_id: 'k1' },
          { action: 'keys.rewrap.completed', resource_id: 'k2', key_id: 'k2' },
        ]);
      });

      it('should let the TOTP user log in with a code, its secret now sealed under k2', async () => {
        const [user] = await db.query<{ mfa_secret: string }[]>(
          'SELECT mfa_secret FROM users WHERE id = ?',
          [totpUser.id],
        );
        expect(user.mfa_secret).toMatch(/^k2:/);
        await sut.http
          .post('/api/v1/auth/login')
          .send({
            email: totpUser.email,
            password: STRONG,
            totp: await generate({ secret: totpUser.secret }),
          })
          .expect(200);
      });

      it('should verify the audit chain, signed partly with k1 and partly with k2', async () => {
        const keyIds = await db.query<{ key_id: string }[]>(
          'SELECT DISTINCT key_id FROM audit_events ORDER BY key_id',
        );
        expect(keyIds.map((row) => row.key_id)).toEqual(['k1', 'k2']);
        const response = await sut.http
          .post('/api/v1/audit/verify')
          .set('authorization', admin)
          .expect(200);
        expect(response.body).toMatchObject({ ok: true });
      });
    });

    describe('with only k2 configured afterwards', () => {
      let sut: TestApp;

      beforeAll(async () => {
        // The single-key form: CUSTOS_MASTER_KEY with its id.
        sut = await startApp(database, {
          env: {
            ...keysEnv({}),
            CUSTOS_MASTER_KEYS: undefined,
            CUSTOS_MASTER_KEY: k2,
            CUSTOS_MASTER_KEY_ID: 'k2',
          },
        });
      });

      afterAll(() => sut.close());

      it('should be unsealed and reveal every version of every secret', async () => {
        await sut.http.get('/api/v1/health/ready').expect(200);
        await expectAllReveal(sut, admin, secrets);
        await expectAllReveal(sut, admin, written, 'current');
      });

      it('should wrap the data keys of a new credential and its next version with k2', async () => {
        const [created] = await createSecrets(sut, admin, 1, 'after-rotation');
        const rows = await db.query<{ kek_id: string }[]>(
          'SELECT kek_id FROM credential_versions WHERE credential_id = ? ORDER BY version',
          [created.id],
        );
        expect(rows).toEqual([{ kek_id: 'k2' }, { kek_id: 'k2' }]);
        await expectAllReveal(sut, admin, [created]);
      });

      it('should still let the TOTP user log in', async () => {
        await sut.http
          .post('/api/v1/auth/login')
          .send({
            email: totpUser.email,
            password: STRONG,
            totp: await generate({ secret: totpUser.secret, epoch: Date.now() / 1000 + 30 }),
          })
          .expect(200);
      });

      it('should report k1 as unknown to this instance and nothing left to re-wrap', async () => {
        const status = await keyStatus(sut, admin);
        expect(status).toMatchObject({ activeKeyId: 'k2', remaining: 0 });
        expect(keyReport(status, 'k1')).toMatchObject({
          status: 'retired',
          configured: false,
          removable: true,
        });
      });

      it('should fail audit verification at the first event signed with k1, which it no longer holds', async () => {
        const response = await sut.http
          .post('/api/v1/audit/verify')
          .set('authorization', admin)
          .expect(200);
        const [first] = await db.query<{ seq: string | number }[]>(
          "SELECT seq FROM audit_events WHERE key_id = 'k1' ORDER BY seq LIMIT 1",
        );
        expect(response.body).toMatchObject({
          ok: false,
          firstBadSeq: String(first.seq),
          reason: 'no key for key id "k1"',
        });
      });
    });
  });

  describe('an interrupted rotation', () => {
    const k1 = randomMasterKey();
    const k2 = randomMasterKey();
    let database: ScratchDatabase;
    let db: DataSource;
    let admin: string;
    let secrets: StoredSecret[];
    const env = keysEnv({ k1, k2 }, { KEYS_REWRAP_BATCH_SIZE: '3' });

    beforeAll(async () => {
      database = await scratchMariadb();
      const first = await startApp(database, { env: keysEnv({ k1 }) });
      try {
        admin = await bearerFor(first, 'admin');
        secrets = await createSecrets(first, admin, 12, 'interrupted');
      } finally {
        await first.close();
      }
      db = await openDirect(database);
    });

    afterAll(async () => {
      await db?.destroy();
      await database?.drop();
    });

    it('should reveal everything in the mixed state after one batch, then resume by itself on restart', async () => {
      const crashed = await startApp(database, { env });
      try {
        const rotation = crashed.app.get(KeyRotationService);
        await expect(rotation.activate('k2')).resolves.toEqual({ from: 'k1', to: 'k2' });
        await expect(rotation.rewrapBatch()).resolves.toBe(3);
        const byKey = await db.query<{ kek_id: string; n: string | number }[]>(
          'SELECT kek_id, COUNT(*) AS n FROM credential_versions GROUP BY kek_id ORDER BY kek_id',
        );
        expect(byKey.map((row) => [row.kek_id, Number(row.n)])).toEqual([
          ['k1', 12],
          ['k2', 3],
        ]);
        await expectAllReveal(crashed, admin, secrets);
        expect(await keyStatus(crashed, admin)).toMatchObject({
          activeKeyId: 'k2',
          remaining: 12,
        });
      } finally {
        await crashed.close();
      }

      const resumed = await startApp(database, { env });
      try {
        const status = await waitForRewrap(resumed, admin);
        expect(status.rewrap.rewrapped).toEqual({
          secretVersions: 12,
          totpSecrets: 0,
          webhookSecrets: 0,
        });
        expect(keyReport(status, 'k1')).toMatchObject({ status: 'retired', removable: true });
        expect(new Set((await versionRows(db)).map((row) => row.kekId))).toEqual(new Set(['k2']));
        await expectAllReveal(resumed, admin, secrets);
      } finally {
        await resumed.close();
      }
    });

    it('should resume on restart after a graceful shutdown stopped the re-wrap half-way', async () => {
      const k3 = randomMasterKey();
      const next = keysEnv({ k2, k3 }, { KEYS_REWRAP_BATCH_SIZE: '3' });
      const stopped = await startApp(database, { env: next });
      try {
        const rotation = stopped.app.get(KeyRotationService);
        await rotation.activate('k3');
        // The shutdown hook (SIGTERM, a deploy) runs while the first batch has just committed.
        let batches = 0;
        await rotation.rewrapAll(() => {
          if (++batches === 1) void rotation.onApplicationShutdown();
        });
        expect(batches).toBe(1);
        expect(await keyStatus(stopped, admin)).toMatchObject({
          activeKeyId: 'k3',
          remaining: 12,
          rewrap: { state: 'idle' },
        });
      } finally {
        await stopped.close();
      }

      const resumed = await startApp(database, { env: next });
      try {
        const status = await waitForRewrap(resumed, admin);
        expect(keyReport(status, 'k2')).toMatchObject({ status: 'retired', removable: true });
        await expectAllReveal(resumed, admin, secrets);
      } finally {
        await resumed.close();
      }
    });
  });

  describe('a version locked by a concurrent write', () => {
    const env = keysEnv({ k1: randomMasterKey(), k2: randomMasterKey() });
    let database: ScratchDatabase;
    let db: DataSource;

    beforeAll(async () => {
      database = await scratchMariadb();
      db = await openDirect(database);
    });

    afterAll(async () => {
      await db?.destroy();
      await database?.drop();
    });

    it('should not call the re-wrap done while that version is still under the old key', async () => {
      const sut = await startApp(database, { env });
      const writer = db.createQueryRunner();
      try {
        const admin = await bearerFor(sut, 'admin');
        const secrets = await createSecrets(sut, admin, 6, 'locked');
        // A secret update in flight holds these row locks (current -> previous) until it commits.
        await writer.startTransaction();
        await writer.query(
          'SELECT version FROM credential_versions WHERE credential_id = ? FOR UPDATE',
          [secrets[1].id],
        );
        await sut.http.post('/api/v1/keys/rotate').set('authorization', admin).send({}).expect(202);
        await new Promise((resolve) => setTimeout(resolve, 500));
        await writer.commitTransaction();
        const status = await waitForRewrap(sut, admin);
        expect(keyReport(status, 'k1')).toMatchObject({ removable: true });
        await expectAllReveal(sut, admin, secrets);
      } finally {
        if (writer.isTransactionActive) await writer.rollbackTransaction();
        await writer.release();
        await sut.close();
      }
    });
  });

  describe('refusals', () => {
    const k1 = randomMasterKey();
    let database: ScratchDatabase;
    let sut: TestApp;
    let admin: string;

    beforeAll(async () => {
      database = await scratchMariadb();
      sut = await startApp(database, { env: keysEnv({ k1 }) });
      admin = await bearerFor(sut, 'admin');
    });

    afterAll(async () => {
      await sut?.close();
      await database?.drop();
    });

    it('should require authentication', async () => {
      await sut.http.post('/api/v1/keys/rotate').send({}).expect(401);
      await sut.http.get('/api/v1/keys/status').expect(401);
    });

    it('should refuse an operator and a service key with 403', async () => {
      const operator = await bearerFor(sut, 'operator');
      await sut.http
        .post('/api/v1/keys/rotate')
        .set('authorization', operator)
        .send({})
        .expect(403);
      const service = await serviceWithGrants(sut, admin, [
        { pathPattern: '**', capabilities: ['read'] },
      ]);
      await sut.http.post('/api/v1/keys/rotate').set(service.headers).send({}).expect(403);
      await sut.http.get('/api/v1/keys/status').set(service.headers).expect(403);
    });

    it('should refuse the key status to an auditor', async () => {
      const auditor = await bearerFor(sut, 'auditor');
      await sut.http.get('/api/v1/keys/status').set('authorization', auditor).expect(403);
    });

    it('should tell to configure a new key when there is none', async () => {
      const response = await sut.http
        .post('/api/v1/keys/rotate')
        .set('authorization', admin)
        .send({})
        .expect(400);
      expect(response.body.message).toMatch(/No new master key is configured: add one/);
    });

    it('should refuse a key id that is not configured', async () => {
      const response = await sut.http
        .post('/api/v1/keys/rotate')
        .set('authorization', admin)
        .send({ keyId: 'k9' })
        .expect(400);
      expect(response.body.message).toMatch(/"k9" is not configured/);
    });

    it('should refuse a malformed key id and an unknown field', async () => {
      for (const body of [
        { keyId: 'K9!' },
        { keyId: 'x'.repeat(40) },
        { keyId: 2 },
        { to: 'k2' },
      ]) {
        await sut.http
          .post('/api/v1/keys/rotate')
          .set('authorization', admin)
          .send(body)
          .expect(400);
      }
    });

    it('should have changed nothing', async () => {
      const status = await keyStatus(sut, admin);
      expect(status.activeKeyId).toBe('k1');
      expect(status.keys.map((key) => [key.id, key.status])).toEqual([['k1', 'active']]);
    });
  });

  describe('check values of each key', () => {
    const k1 = randomMasterKey();
    const k2 = randomMasterKey();
    let database: ScratchDatabase;
    let db: DataSource;

    beforeAll(async () => {
      database = await scratchMariadb();
      const first = await startApp(database, { env: keysEnv({ k1, k2 }) });
      try {
        const admin = await bearerFor(first, 'admin');
        await createSecrets(first, admin, 3, 'check-values');
        await first.http
          .post('/api/v1/keys/rotate')
          .set('authorization', admin)
          .send({ keyId: 'k2' })
          .expect(202);
        await waitForRewrap(first, admin);
      } finally {
        await first.close();
      }
      db = await openDirect(database);
    });

    afterAll(async () => {
      await db?.destroy();
      await database?.drop();
    });

    it.each([
      ['k2 is wrong', () => ({ k1, k2: randomMasterKey() }), /check value of key "k2"/],
      ['k1 is wrong', () => ({ k1: randomMasterKey(), k2 }), /check value of key "k1"/],
      [
        'only k1 is given while k2 is active',
        () => ({ k1 }),
        /the active master key "k2" is not configured \(configured: k1\)/,
      ],
    ])('should start sealed when %s, writing nothing', async (_, keys, reason) => {
      const keyring = await keyringRows(db);
      const events = await countOf(db, 'audit_events');
      const versions = await versionRows(db);
      const sut = await startApp(database, { env: keysEnv(keys()) });
      try {
        const ready = await sut.http.get('/api/v1/health/ready').expect(503);
        expect(ready.body.message).toMatch(reason);
        expect(ready.body.details.keyring).toMatchObject({ status: 'down', sealed: true });
        await sut.http.get('/api/v1/keys/status').expect(503);
        await sut.http.post('/api/v1/keys/rotate').send({}).expect(503);
      } finally {
        await sut.close();
      }
      expect(await keyringRows(db)).toEqual(keyring);
      expect(await countOf(db, 'audit_events')).toBe(events);
      expect(await versionRows(db)).toEqual(versions);
    });
  });

  describe('the CLI', () => {
    const k1 = randomMasterKey();
    const k2 = randomMasterKey();
    const k3 = randomMasterKey();
    let database: ScratchDatabase;
    let db: DataSource;
    let dataDir: string;
    let admin: string;
    let secrets: StoredSecret[];

    /** Runs `node dist/src/cli/cli.js` as an operator would, with exactly these master keys. */
    const cli = async (args: string[], keys: Keys): Promise<CliResult> => {
      try {
        const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, ...args], {
          cwd: ROOT,
          env: {
            PATH: process.env.PATH ?? '',
            NODE_ENV: 'test',
            LOG_LEVEL: 'silent',
            DATABASE_URL: database.url,
            CUSTOS_DATA_DIR: dataDir,
            CUSTOS_MASTER_KEYS: keyList(keys),
            JWT_SECRET,
            KEYS_REWRAP_BATCH_SIZE: '4',
          },
          timeout: 30_000,
        });
        return { code: 0, stdout, stderr };
      } catch (error) {
        const failed = error as { code?: number; stdout?: string; stderr?: string };
        return {
          code: failed.code ?? -1,
          stdout: failed.stdout ?? '',
          stderr: failed.stderr ?? '',
        };
      }
    };

    beforeAll(async () => {
      ensureBuilt();
      database = await scratchMariadb();
      dataDir = mkdtempSync(join(tmpdir(), 'custos-cli-'));
      const first = await startApp(database, { env: keysEnv({ k1 }) });
      try {
        admin = await bearerFor(first, 'admin');
        secrets = await createSecrets(first, admin, 8, 'cli');
      } finally {
        await first.close();
      }
      db = await openDirect(database);
    });

    afterAll(async () => {
      rmSync(dataDir, { recursive: true, force: true });
      await db?.destroy();
      await database?.drop();
    });

    it('should print each key with --status and exit 0 when nothing is left to re-wrap', async () => {
      const result = await cli(['keys:rotate', '--status'], { k1, k2 });
      expect(result.code).toBe(0);
      expect(keyLines(result.stdout)).toEqual([
        expect.objectContaining({
          id: 'k1',
          status: 'active',
          configured: true,
          references: { secretVersions: 10, totpSecrets: 0, webhookSecrets: 0 },
        }),
        expect.objectContaining({
          id: 'k2',
          status: 'not-enrolled',
          configured: true,
          references: { secretVersions: 0, totpSecrets: 0, webhookSecrets: 0 },
        }),
      ]);
      expect((await keyringRows(db)).map((row) => [row.id, row.status])).toEqual([
        ['k1', 'active'],
      ]);
    });

    it('should activate the new key, print progress and exit 0, after which k2 alone reveals everything', async () => {
      const result = await cli(['keys:rotate'], { k1, k2 });
      expect(result).toMatchObject({ code: 0, stderr: '' });
      const lines = result.stdout.trim().split('\n');
      expect(lines[0]).toBe('Master key "k2" is active (was "k1")');
      const progress = lines.filter((line) => line.startsWith('Re-wrapped '));
      expect(progress).toEqual([
        'Re-wrapped 4, 6 left',
        'Re-wrapped 4, 2 left',
        'Re-wrapped 2, 0 left',
      ]);
      expect(keyLines(result.stdout)).toEqual([
        expect.objectContaining({
          id: 'k1',
          status: 'retired',
          references: { secretVersions: 0, totpSecrets: 0, webhookSecrets: 0 },
          note: expect.stringMatching(/it can be removed/),
        }),
        expect.objectContaining({
          id: 'k2',
          status: 'active',
          references: { secretVersions: 10, totpSecrets: 0, webhookSecrets: 0 },
        }),
      ]);

      const after = await startApp(database, { env: keysEnv({ k2 }) });
      try {
        await after.http.get('/api/v1/health/ready').expect(200);
        await expectAllReveal(after, admin, secrets);
      } finally {
        await after.close();
      }
    });

    describe('after a rotation was interrupted', () => {
      let mixed: VersionRow[];

      beforeAll(async () => {
        const crashed = await startApp(database, {
          env: keysEnv({ k2, k3 }, { KEYS_REWRAP_BATCH_SIZE: '4' }),
        });
        try {
          const rotation = crashed.app.get(KeyRotationService);
          await rotation.activate('k3');
          await rotation.rewrapBatch();
        } finally {
          await crashed.close();
        }
        mixed = await versionRows(db);
      });

      it('should only print, with --status, what each key still protects, and exit 1', async () => {
        const result = await cli(['keys:rotate', '--status'], { k2, k3 });
        expect(result.code).toBe(1);
        expect(keyLines(result.stdout)).toEqual([
          expect.objectContaining({ id: 'k1', status: 'retired', configured: false }),
          expect.objectContaining({
            id: 'k2',
            status: 'retired',
            references: { secretVersions: 6, totpSecrets: 0, webhookSecrets: 0 },
          }),
          expect.objectContaining({
            id: 'k3',
            status: 'active',
            references: { secretVersions: 4, totpSecrets: 0, webhookSecrets: 0 },
          }),
        ]);
        expect(await versionRows(db)).toEqual(mixed);
      });

      it('should resume re-wrapping when run again, printing progress, and exit 0', async () => {
        const result = await cli(['keys:rotate'], { k2, k3 });
        expect(result).toMatchObject({ code: 0, stderr: '' });
        const lines = result.stdout.trim().split('\n');
        expect(lines.filter((line) => line.startsWith('Master key'))).toEqual([]);
        expect(lines.filter((line) => line.startsWith('Re-wrapped ')).length).toBeGreaterThan(0);
        expect(keyLines(result.stdout)).toContainEqual(
          expect.objectContaining({ id: 'k2', status: 'retired', removable: true }),
        );
        expect(new Set((await versionRows(db)).map((row) => row.kekId))).toEqual(new Set(['k3']));
      });
    });
  });

  describe('two instances on one database', () => {
    const env = keysEnv({ k1: randomMasterKey(), k2: randomMasterKey() });
    let database: ScratchDatabase;
    let db: DataSource;
    let one: TestApp;
    let other: TestApp;
    let admin: string;
    let secrets: StoredSecret[];

    beforeAll(async () => {
      database = await scratchMariadb();
      one = await startApp(database, { env });
      other = await startApp(database, { env });
      db = await openDirect(database);
      admin = await bearerFor(one, 'admin');
      secrets = await createSecrets(one, admin, 2, 'two-instances');
      await one.http.post('/api/v1/keys/rotate').set('authorization', admin).send({}).expect(202);
      await waitForRewrap(one, admin);
    });

    afterAll(async () => {
      await one?.close();
      await other?.close();
      await db?.destroy();
      await database?.drop();
    });

    it('should report k2 active on the other instance too', async () => {
      const seen = await keyStatus(other, admin);
      expect(seen).toMatchObject({ activeKeyId: 'k2', remaining: 0 });
      expect(keyReport(seen, 'k2')?.status).toBe('active');
      expect(keyReport(seen, 'k1')).toMatchObject({ status: 'retired', removable: true });
    });

    // Runs before the other instance stores a secret (which would look the key up at once): it
    // proves the periodic re-read of the active key.
    it('should chain the audit events the other instance writes afterwards with k2', async () => {
      await new Promise((resolve) => setTimeout(resolve, ACTIVE_KEY_REFRESH_MS + 500));
      const [{ seq }] = await db.query<{ seq: string }[]>(
        'SELECT MAX(seq) AS seq FROM audit_events',
      );
      await expectAllReveal(other, admin, secrets);
      const signers = await db.query<{ key_id: string }[]>(
        'SELECT DISTINCT key_id FROM audit_events WHERE seq > ?',
        [seq],
      );
      expect(signers).toEqual([{ key_id: 'k2' }]);
    });

    it('should wrap new data keys with k2 on the other instance', async () => {
      const [created] = await createSecrets(other, admin, 1, 'two-instances-other');
      const rows = await db.query<{ kek_id: string }[]>(
        'SELECT kek_id FROM credential_versions WHERE credential_id = ?',
        [created.id],
      );
      expect(rows.map((row) => row.kek_id)).toEqual(['k2', 'k2']);
    });
  });

  describe('without JWT_SECRET (development: the token key derives from the master key)', () => {
    let database: ScratchDatabase;

    beforeAll(async () => {
      database = await scratchMariadb();
    });

    afterAll(() => database?.drop());

    it('should keep access tokens issued before the rotation valid', async () => {
      const env = keysEnv(
        { k1: randomMasterKey(), k2: randomMasterKey() },
        { JWT_SECRET: undefined },
      );
      const sut = await startApp(database, { env });
      try {
        const admin = await bearerFor(sut, 'admin');
        await sut.http.post('/api/v1/keys/rotate').set('authorization', admin).send({}).expect(202);
        await sut.http.get('/api/v1/keys/status').set('authorization', admin).expect(200);
      } finally {
        await sut.close();
      }
    });
  });

  describe('CUSTOS_MASTER_KEYS_DIR', () => {
    let database: ScratchDatabase;
    let keysDir: string;

    beforeAll(async () => {
      database = await scratchMariadb();
      keysDir = mkdtempSync(join(tmpdir(), 'custos-keys-'));
    });

    afterAll(async () => {
      rmSync(keysDir, { recursive: true, force: true });
      await database?.drop();
    });

    it('should rotate with keys given as <id>.key files, like the variable', async () => {
      const env = keysEnv({}, { CUSTOS_MASTER_KEYS: undefined, CUSTOS_MASTER_KEYS_DIR: keysDir });
      writeFileSync(join(keysDir, 'k1.key'), `${randomMasterKey()}\n`, { mode: 0o600 });
      const first = await startApp(database, { env });
      let admin: string;
      let secrets: StoredSecret[];
      try {
        admin = await bearerFor(first, 'admin');
        secrets = await createSecrets(first, admin, 4, 'dir');
      } finally {
        await first.close();
      }

      writeFileSync(join(keysDir, 'k2.key'), `${randomMasterKey()}\n`, { mode: 0o600 });
      const both = await startApp(database, { env });
      try {
        expect(keyReport(await keyStatus(both, admin), 'k2')).toMatchObject({
          status: 'not-enrolled',
          configured: true,
        });
        await both.http
          .post('/api/v1/keys/rotate')
          .set('authorization', admin)
          .send({})
          .expect(202);
        await waitForRewrap(both, admin);
      } finally {
        await both.close();
      }

      unlinkSync(join(keysDir, 'k1.key'));
      const only = await startApp(database, { env });
      try {
        await only.http.get('/api/v1/health/ready').expect(200);
        await expectAllReveal(only, admin, secrets);
      } finally {
        await only.close();
      }
    });
  });
});
