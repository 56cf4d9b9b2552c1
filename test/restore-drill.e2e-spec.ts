import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as mysql from 'mysql2/promise';
import { DataSource } from 'typeorm';
import { AuditCheckpointer } from '../src/audit/audit-checkpointer';
import { OutboxRelay } from '../src/audit/outbox/outbox-relay';
import { DEFAULT_MARIADB_SERVER_URL, ScratchDatabase } from '../src/database/cli/scratch-database';
import { openDirect } from './helpers/audit-db';
import { ensureBuilt } from './helpers/spawned-app';
import { bearerFor, randomMasterKey, scratchMariadb, startApp, TestApp } from './helpers/test-app';

const API = '/api/v1';
const DRILL = join(__dirname, '..', 'scripts', 'restore-drill');

interface DrillRun {
  code: number;
  output: string;
}

/**
 * scripts/restore-drill on real MariaDB: a dump of a database the app wrote restores into a fresh
 * database where every version decrypts and the audit chain verifies; a changed ciphertext or a
 * wrong master key fails the drill, naming what failed and never printing a secret; the drill's
 * scratch database is gone afterwards either way.
 */
describe('Restore drill (MariaDB)', () => {
  let database: ScratchDatabase;
  let db: DataSource;
  let sut: TestApp;
  const secrets: string[] = [];
  const ids: string[] = [];

  let dir: string;

  const drill = (masterKey: string, args: string[] = [database.url!]): Promise<DrillRun> =>
    new Promise((resolve) => {
      execFile(
        'bash',
        [DRILL, ...args],
        { env: { PATH: process.env.PATH, CUSTOS_MASTER_KEY: masterKey }, timeout: 120_000 },
        (error, stdout, stderr) =>
          resolve({ code: error ? Number(error.code) : 0, output: stdout + stderr }),
      );
    });

  /** The scratch database a run names as dropped, checked to be gone from the server. */
  const expectScratchDropped = async (run: DrillRun): Promise<void> => {
    const name = /scratch database (custos_drill_[0-9a-f]+) dropped/.exec(run.output)?.[1];
    expect(name).toBeDefined();
    const server = await mysql.createConnection(
      process.env.MARIADB_TEST_URL ?? DEFAULT_MARIADB_SERVER_URL,
    );
    try {
      const [rows] = await server.query('SHOW DATABASES LIKE ?', [name]);
      expect(rows).toEqual([]);
    } finally {
      await server.end();
    }
  };

  const expectNoSecret = (run: DrillRun): void => {
    for (const secret of secrets) expect(run.output).not.toContain(secret);
  };

  beforeAll(async () => {
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'custos-drill-'));
    database = await scratchMariadb();
    sut = await startApp(database, {
      env: { AUDIT_SINKS: 'file', AUDIT_FILE_PATH: join(dir, 'audit.ndjson') },
    });
    db = await openDirect(database);
    const admin = await bearerFor(sut, 'admin');
    const secret = (): string => {
      const value = `drill-${randomBytes(12).toString('hex')}`;
      secrets.push(value);
      return value;
    };
    // Three credentials with 3, 2 and 1 versions: six versions to decrypt.
    for (const versions of [3, 2, 1]) {
      const created = await sut.http
        .post(`${API}/credentials`)
        .set('authorization', admin)
        .send({
          path: `drill/${randomBytes(4).toString('hex')}`,
          name: 'drill',
          type: 'password',
          secret: { password: secret() },
        })
        .expect(201);
      const id = (created.body as { id: string }).id;
      ids.push(id);
      for (let v = 2; v <= versions; v++) {
        await sut.http
          .put(`${API}/credentials/${id}/secret`)
          .set('authorization', admin)
          .send({ secret: { password: secret() } })
          .expect(200);
      }
    }
    // A fourth, destroyed: its version's value is wiped on purpose and not counted as a failure.
    const destroyed = await sut.http
      .post(`${API}/credentials`)
      .set('authorization', admin)
      .send({
        path: 'drill/destroyed',
        name: 'gone',
        type: 'api_key',
        secret: { apiKey: secret() },
      })
      .expect(201);
    await sut.http
      .post(`${API}/credentials/${(destroyed.body as { id: string }).id}/destroy`)
      .set('authorization', admin)
      .expect(204);
    const hook = await sut.http
      .post(`${API}/webhooks`)
      .set('authorization', admin)
      .send({ url: 'https://hooks.example.com/custos', events: ['rotation.succeeded'] })
      .expect(201);
    secrets.push((hook.body as { secret: string }).secret);
  });

  afterAll(async () => {
    await db?.destroy();
    await sut?.close();
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('should restore a dump into a fresh database where every version decrypts and the chain verifies', async () => {
    const run = await drill(sut.env.CUSTOS_MASTER_KEY!);

    expect(run.output).toContain('Restore drill: PASS');
    expect(run.code).toBe(0);
    expect(run.output).toContain(
      'credential versions: 6 decrypted, 0 failed, 1 destroyed (skipped)',
    );
    expect(run.output).toContain('webhook secrets: 1 opened, 0 failed');
    expect(run.output).toContain('leak-scan fingerprints: 7 versions match, 0 differ');
    expect(run.output).toMatch(/intact: [1-9]\d* events verified/);
    expectNoSecret(run);
    await expectScratchDropped(run);
  });

  it('should prove a dump file restores, against a checkpoint kept outside the database', async () => {
    await sut.app.get(AuditCheckpointer).checkpoint();
    await sut.app.get(OutboxRelay).tick();
    const server = (process.env.MARIADB_TEST_URL ?? DEFAULT_MARIADB_SERVER_URL).replace(/\/+$/, '');
    // Last night's backup, as an operator's cron would have made it.
    const { hostname, port, username, password, pathname } = new URL(database.url!);
    const dumpFile = join(dir, 'backup.sql.gz');
    const dump = execFileSync(
      'mariadb-dump',
      [
        `-h${hostname}`,
        `-P${port || '3306'}`,
        `-u${decodeURIComponent(username)}`,
        '--single-transaction',
        '--hex-blob',
        pathname.slice(1),
      ],
      {
        maxBuffer: 256 * 1024 * 1024,
        env: { ...process.env, MYSQL_PWD: decodeURIComponent(password) },
      },
    );
    writeFileSync(dumpFile, gzipSync(dump));

    const run = await drill(sut.env.CUSTOS_MASTER_KEY!, [
      '--from-dump',
      dumpFile,
      '--scratch-server',
      server,
      '--checkpoint',
      join(dir, 'audit.ndjson'),
    ]);

    expect(run.output).toContain('Restore drill: PASS');
    expect(run.code).toBe(0);
    expect(run.output).toContain(
      'credential versions: 6 decrypted, 0 failed, 1 destroyed (skipped)',
    );
    expectNoSecret(run);
    await expectScratchDropped(run);
  });

  it('should fail, naming the credential, when a version no longer decrypts with the master key', async () => {
    const [, second] = ids;
    await db.query(
      'UPDATE credential_versions SET ciphertext = ? WHERE credential_id = ? AND version = 1',
      [randomBytes(32), second],
    );

    const run = await drill(sut.env.CUSTOS_MASTER_KEY!);

    expect(run.code).toBe(1);
    expect(run.output).toContain('Restore drill: FAIL');
    expect(run.output).toContain(
      'credential versions: 5 decrypted, 1 failed, 1 destroyed (skipped)',
    );
    expect(run.output).toContain(`FAILED credential ${second} version 1`);
    expectNoSecret(run);
    await expectScratchDropped(run);
  });

  it('should fail, naming the version, when its leak-scan fingerprint rows are gone', async () => {
    const third = ids[2];
    await db.query('DELETE FROM credential_fingerprints WHERE credential_id = ?', [third]);

    const run = await drill(sut.env.CUSTOS_MASTER_KEY!);

    expect(run.code).toBe(1);
    expect(run.output).toContain('Restore drill: FAIL');
    // The version that no longer decrypts (above) is not compared; the destroyed one has none.
    expect(run.output).toContain('leak-scan fingerprints: 5 versions match, 1 differ');
    expect(run.output).toContain(
      `FAILED credential ${third} version 1 (current): its leak-scan fingerprint rows differ ` +
        'from its values (1 missing, 0 not from its values)',
    );
    expectNoSecret(run);
    await expectScratchDropped(run);
  });

  it('should fail with a wrong master key, naming every version it cannot open', async () => {
    const run = await drill(randomMasterKey());

    expect(run.code).toBe(1);
    expect(run.output).toContain('Restore drill: FAIL');
    expect(run.output).toContain('master keys: the master key does not match');
    expect(run.output).toContain(
      'credential versions: 0 decrypted, 6 failed, 1 destroyed (skipped)',
    );
    for (const id of ids) expect(run.output).toContain(`FAILED credential ${id}`);
    expectNoSecret(run);
    await expectScratchDropped(run);
  });
});
