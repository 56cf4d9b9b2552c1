import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { fingerprintedValue } from '../src/credentials/version-crypto';
import { ScratchDatabase } from '../src/database/cli/scratch-database';
import { openDirect } from './helpers/audit-db';
import { createCredential, Headers, TYPE_FIXTURES } from './helpers/credential-fixtures';
import { serviceWithGrants } from './helpers/principals';
import { until } from './helpers/rotation-checks';
import { bearerFor, listening, Listening, scratchMariadb, startApp } from './helpers/test-app';

const API = '/api/v1';
const ENV = { THROTTLE_LIMIT: '100000', LOGIN_THROTTLE_LIMIT: '100000' };
const SCRIPT = join(__dirname, '..', 'scripts', 'pre-commit-scan');

interface ScanAnswer {
  matches: { credentialId: string; path: string; version: number; state: string }[];
  otherMatches: number;
  contained: boolean;
}

/**
 * Issue 12, items 5 and 6 on MariaDB: the leak scan finds stored values by their keyed
 * fingerprints (never decrypting), tells callers only of what they may read, contains a leak with
 * an incident and an emergency rotation; a decoy's reveal is answered as usual and opens an
 * incident; the pre-commit hook blocks a staged secret and logs its bypass.
 */
describe('Leak scan and decoys (MariaDB)', () => {
  let database: ScratchDatabase;
  let db: DataSource;
  let listen: Listening;
  let admin: Headers;
  let operator: Headers;
  let scoped: { id: string; headers: Record<string, string> };

  beforeAll(async () => {
    database = await scratchMariadb();
    const sut = await startApp(database, { env: ENV });
    listen = await listening(sut);
    db = await openDirect(database);
    admin = { authorization: await bearerFor(sut, 'admin') };
    operator = { authorization: await bearerFor(sut, 'operator') };
    scoped = await serviceWithGrants(sut, admin.authorization, [
      { pathPattern: 'team-a/*', capabilities: ['read', 'reveal'] },
    ]);
  });

  afterAll(async () => {
    await listen?.sut.close();
    await db?.destroy();
    await database?.drop();
  });

  const http = () => listen.sut.http;

  async function apiKey(path: string, key: string) {
    return createCredential(listen.sut, admin, {
      path,
      type: 'api_key',
      secret: { apiKey: key },
    });
  }

  async function scan(headers: Headers, text: string, contain?: boolean): Promise<ScanAnswer> {
    const response = await http()
      .post(`${API}/scan`)
      .set(headers)
      .send(contain === undefined ? { text } : { text, contain })
      .expect(200);
    return response.body as ScanAnswer;
  }

  it('should find a stored api_key inside a larger text and say nothing of its value', async () => {
    const key = 'ak_live_4eC39HqLyjWDarjtT1zdp7dcQx';
    const stored = await apiKey('team-a/stripe', key);
    const text = `# deploy notes\nexport STRIPE_KEY="${key}"\ncurl -u x https://example.test\n`;

    const answer = await scan(operator, text);

    expect(answer.matches).toEqual([
      { credentialId: stored.id, path: 'team-a/stripe', version: 1, state: 'current' },
    ]);
    expect(answer.otherMatches).toBe(0);
    expect(JSON.stringify(answer)).not.toContain(key);
    const [event] = await db.query<{ details: string }[]>(
      "SELECT details FROM audit_events WHERE action = 'leak.scan' ORDER BY seq DESC LIMIT 1",
    );
    expect(String(event.details)).not.toContain(key);
    expect(String(event.details)).not.toContain('deploy notes');
  });

  it('should find the fingerprinted value of every credential type in a staged diff', async () => {
    const stored = new Map<string, string>();
    for (const fixture of TYPE_FIXTURES) {
      const created = await createCredential(listen.sut, admin, {
        path: `types/${fixture.type}`,
        type: fixture.type,
        secret: fixture.secret,
      });
      stored.set(created.id, `types/${fixture.type}`);
    }
    const diff = TYPE_FIXTURES.map((fixture) => {
      const value = fingerprintedValue(fixture.type, fixture.secret) as string;
      const lines = value.includes('\n') ? value.trimEnd().split('\n') : [`VALUE="${value}"`];
      return [`diff --git a/${fixture.type} b/${fixture.type}`, ...lines.map((l) => `+${l}`)].join(
        '\n',
      );
    }).join('\n');

    const answer = await scan(admin, diff);

    expect(answer.matches.map((m) => m.path).sort()).toEqual([...stored.values()].sort());
  });

  it('should ignore near-misses of a stored value', async () => {
    const key = 'ak_near_Zm9vYmFyYmF6cXV4MTIzNDU2';
    await apiKey('team-a/near', key);

    const answer = await scan(
      operator,
      `KEY=${key.slice(0, -1)}\nOTHER=${key}9\nTHIRD=X${key}\n${key.toUpperCase()}`,
    );

    expect(answer.matches.filter((m) => m.path === 'team-a/near')).toEqual([]);
  });

  it('should find a stored password inside a DSN, a query string and a sentence, and not a near-miss', async () => {
    // Symbols a generated password may hold, the ones a splitter would cut at among them.
    const password = 'Qx7!vR2/kp?Zt&9|mW.@e';
    const stored = await createCredential(listen.sut, admin, {
      path: 'team-a/db-password',
      type: 'password',
      secret: { password },
    });
    const match = {
      credentialId: stored.id,
      path: 'team-a/db-password',
      version: 1,
      state: 'current',
    };
    const texts = [
      `DATABASE_URL=mysql://app:${password}@db.internal:3306/app`,
      `GET https://api.example.test/v1/items?token=${password}&page=2`,
      `For the record, the password is ${password}.`,
    ];

    for (const text of texts) {
      expect((await scan(operator, text)).matches).toEqual([match]);
    }
    const nearMiss = `${password.slice(0, 5)}X${password.slice(6)}`;
    expect((await scan(operator, `mysql://app:${nearMiss}@db.internal/app`)).matches).toEqual([]);
  });

  it('should find each value of a kv secret on its own', async () => {
    const keyId = 'AKIAIOSFODNN7EXAMPLE';
    const secretKey = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
    const stored = await createCredential(listen.sut, admin, {
      path: 'team-a/aws',
      type: 'kv',
      secret: { accessKeyId: keyId, secretAccessKey: secretKey, region: 'eu' },
    });
    const match = { credentialId: stored.id, path: 'team-a/aws', version: 1, state: 'current' };

    expect((await scan(operator, `aws_access_key_id = ${keyId}`)).matches).toEqual([match]);
    expect((await scan(operator, `aws_secret_access_key=${secretKey}`)).matches).toEqual([match]);
    expect((await scan(operator, `region: eu`)).matches).toEqual([]);
  });

  // Not a timed assertion (the machines are shared): the cost of a full-size scan, printed.
  it('should answer a 256 KiB scan of dense text within the candidate cap, saying it was cut short', async () => {
    const line = (i: number) =>
      `+  "node_modules/pkg-${i}": {"resolved":"https://r.example/pkg-${i}/-/pkg-${i}.tgz",` +
      `"integrity":"sha512-${randomBytes(66).toString('base64')}"},`;
    const lines: string[] = [];
    for (let i = 0, bytes = 0; bytes < 250 * 1024; i++) {
      lines.push(line(i));
      bytes += lines[lines.length - 1].length + 1;
    }
    for (const kib of [16, 250]) {
      const text = lines.join('\n').slice(0, kib * 1024);
      const started = process.hrtime.bigint();

      const answer = (await scan(operator, text)) as ScanAnswer & {
        candidates: number;
        truncated: boolean;
      };

      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      process.stdout.write(
        `POST /scan of ${kib} KiB of lockfile lines: ${answer.candidates} candidates, ` +
          `truncated ${answer.truncated}, ${ms.toFixed(0)} ms\n`,
      );
      expect(answer.candidates).toBeLessThanOrEqual(20_000);
      if (kib === 250) expect(answer.truncated).toBe(true);
    }
  });

  it('should find the previous version while in its grace, and not after it', async () => {
    const old = 'ak_old_Y2hhbmdlZC1vbmNlLWFscmVhZHk';
    const stored = await apiKey('team-a/rotated', old);
    await http()
      .put(`${API}/credentials/${stored.id}/secret`)
      .set(admin)
      .send({ secret: { apiKey: 'ak_new_bmV3LXZhbHVlLWFmdGVyLXN3aXRjaA' } })
      .expect(200);

    const inGrace = await scan(operator, `token: ${old}`);
    expect(inGrace.matches).toEqual([
      { credentialId: stored.id, path: 'team-a/rotated', version: 1, state: 'previous' },
    ]);

    await db.query(
      'UPDATE credential_versions SET grace_until = NOW(3) - INTERVAL 1 SECOND ' +
        'WHERE credential_id = ? AND version = 1',
      [stored.id],
    );
    expect((await scan(operator, `token: ${old}`)).matches).toEqual([]);
  });

  it('should only count the matches on credentials the caller may not read', async () => {
    const mine = 'ak_mine_dGVhbS1hLXNlcnZpY2Uta2V5';
    const theirs = 'ak_theirs_dGVhbS1iLXNlY3JldC1rZXk';
    await apiKey('team-a/mine', mine);
    const hidden = await apiKey('team-b/theirs', theirs);

    const answer = await scan(scoped.headers, `a=${mine}\nb=${theirs}\n`);

    expect(answer.matches.map((m) => m.path)).toEqual(['team-a/mine']);
    expect(answer.otherMatches).toBe(1);
    expect(JSON.stringify(answer)).not.toContain(hidden.id);
    expect(JSON.stringify(answer)).not.toContain('team-b');
  });

  it('should answer 413 to a text over the cap and 400 to unknown fields', async () => {
    await http()
      .post(`${API}/scan`)
      .set(operator)
      .send({ text: 'x'.repeat(256 * 1024 + 1) })
      .expect(413);
    await http().post(`${API}/scan`).set(operator).send({ text: 'a', extra: 1 }).expect(400);
    await http().post(`${API}/scan`).send({ text: 'a' }).expect(401);
  });

  it('should open a credential_leak incident and rotate the leaked key away with contain', async () => {
    const key = 'ak_leak_bGVha2VkLWluLWEtcGFzdGViaW4';
    const stored = await apiKey('team-a/leaked', key);
    await http()
      .put(`${API}/credentials/${stored.id}/rotation`)
      .set(admin)
      .send({
        enabled: true,
        rotator: { kind: 'generated' },
        interval: 'P30D',
        gracePeriod: 'PT1H',
      })
      .expect(200);

    const answer = await scan(scoped.headers, `pasted: ${key}`, true);

    expect(answer.contained).toBe(true);
    const incidents = await db.query<{ id: string }[]>(
      "SELECT id FROM incidents WHERE type = 'credential_leak' AND dedupe_key = ?",
      [`credential_leak:${stored.id}`],
    );
    expect(incidents).toHaveLength(1);
    // The emergency run switches with grace 0: the leaked version stops revealing.
    await until(
      async () => {
        const reveal = await http()
          .post(`${API}/credentials/${stored.id}/reveal`)
          .set(admin)
          .send({ version: 1 });
        return reveal.status === 200 ? undefined : reveal.status;
      },
      20_000,
      'the leaked version to stop revealing',
    );
    expect((await scan(operator, `pasted: ${key}`)).matches).toEqual([]);
  });

  it('should record a leaked credential without an automatic rotator, and leave it for containment to mark must-rotate', async () => {
    const key = 'ak_leak_bm8tcm90YXRvci1vbi10aGlzLW9uZQ';
    const stored = await apiKey('team-a/leaked-manual', key);

    expect((await scan(scoped.headers, `pasted: ${key}`, true)).contained).toBe(true);

    const [incident] = await db.query<{ id: string }[]>(
      'SELECT id FROM incidents WHERE dedupe_key = ?',
      [`credential_leak:${stored.id}`],
    );
    const actions = await db.query<{ details: string }[]>(
      "SELECT details FROM incident_timeline WHERE incident_id = ? AND kind = 'action'",
      [incident.id],
    );
    expect(actions.map((row) => JSON.parse(row.details) as unknown)).toEqual([
      expect.objectContaining({ rotation: 'manual', credentialId: stored.id, trigger: 'leak' }),
    ]);
    const contained = await http()
      .post(`${API}/incidents/${incident.id}/contain`)
      .set(operator)
      .send({ note: 'no rotator: a person rotates it' })
      .expect(200);
    expect(contained.body.credentials).toEqual([
      expect.objectContaining({ credentialId: stored.id, outcome: 'must_rotate' }),
    ]);
    expect(JSON.stringify(contained.body)).not.toContain(key);
  });

  it('should refuse to let a non-admin mark a decoy', async () => {
    const decoy = await apiKey('team-a/decoy-refused', 'ak_decoy_bm90LWEtcmVhbC1rZXktZXZlcg');
    await http()
      .put(`${API}/credentials/${decoy.id}/decoy`)
      .set(operator)
      .send({ decoy: true })
      .expect(403);
    await http().get(`${API}/credentials/${decoy.id}/decoy`).set(operator).expect(403);
  });

  it('should answer a decoy reveal as usual and open one decoy_access incident per window', async () => {
    const value = 'ak_decoy_aG9uZXlwb3Qta2V5LWZvci1hdHRhY2tlcnM';
    const decoy = await apiKey('team-a/decoy', value);
    const before = await http().get(`${API}/credentials/${decoy.id}`).set(admin).expect(200);
    await http()
      .put(`${API}/credentials/${decoy.id}/decoy`)
      .set(admin)
      .send({ decoy: true })
      .expect(200, { decoy: true });
    const after = await http().get(`${API}/credentials/${decoy.id}`).set(admin).expect(200);
    expect(after.body).toEqual(before.body);

    // Side by side, by path and by id: every reveal answers as usual and lands in one incident.
    const reveals = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        i % 2 === 0
          ? http().get(`${API}/secrets/team-a/decoy`).set(scoped.headers)
          : http().post(`${API}/credentials/${decoy.id}/reveal`).set(scoped.headers).send({}),
      ),
    );
    for (const revealed of reveals) {
      expect(revealed.status).toBe(200);
      expect(revealed.body).toMatchObject({ path: 'team-a/decoy', secret: { apiKey: value } });
      expect(revealed.body).not.toHaveProperty('decoy');
    }
    // Written with each reveal's audit event, before the answer: no waiting.
    const incidents = await db.query<{ id: string; title: string }[]>(
      "SELECT id, title FROM incidents WHERE type = 'decoy_access' AND dedupe_key = ?",
      [`decoy_access:service_account:${scoped.id}:${decoy.id}`],
    );
    expect(incidents).toHaveLength(1);
    expect(incidents[0].title).toContain('team-a/decoy');
    const detections = await db.query<{ requestId: string }[]>(
      "SELECT JSON_VALUE(details, '$.requestId') AS requestId FROM incident_timeline " +
        "WHERE incident_id = ? AND kind = 'detection'",
      [incidents[0].id],
    );
    const revealEvents = await db.query<{ requestId: string }[]>(
      "SELECT request_id AS requestId FROM audit_events WHERE action = 'credential.reveal' " +
        "AND outcome = 'success' AND resource_id = ?",
      [decoy.id],
    );
    expect(detections.map((d) => d.requestId).sort()).toEqual(
      revealEvents.map((e) => e.requestId).sort(),
    );
    expect(revealEvents).toHaveLength(6);
  });

  it("should open a decoy_access incident for whoever scans a decoy's value, answering as for any match", async () => {
    const value = 'ak_decoy_c2Nhbm5lZC1ob25leXBvdC12YWx1ZQ';
    const decoy = await apiKey('team-a/decoy-scanned', value);
    await http()
      .put(`${API}/credentials/${decoy.id}/decoy`)
      .set(admin)
      .send({ decoy: true })
      .expect(200);

    const answer = await scan(scoped.headers, `leaked=${value}`);

    expect(answer.matches).toEqual([
      { credentialId: decoy.id, path: 'team-a/decoy-scanned', version: 1, state: 'current' },
    ]);
    const incidents = await db.query<{ id: string }[]>(
      "SELECT id FROM incidents WHERE type = 'decoy_access' AND dedupe_key = ?",
      [`decoy_access:service_account:${scoped.id}:${decoy.id}`],
    );
    expect(incidents).toHaveLength(1);
  });

  it('should suspend whoever reveals a decoy with DECOY_SUSPEND_PRINCIPAL, still answering the reveal', async () => {
    const suspending = await startApp(database, {
      env: {
        ...ENV,
        CUSTOS_MASTER_KEY: listen.sut.env.CUSTOS_MASTER_KEY,
        DECOY_SUSPEND_PRINCIPAL: 'true',
      },
    });
    try {
      const intruder = await serviceWithGrants(suspending, admin.authorization, [
        { pathPattern: 'vault/*', capabilities: ['read', 'reveal'] },
      ]);
      await apiKey('vault/break-glass', 'ak_decoy_YnJlYWstZ2xhc3MtaG9uZXlwb3Q');
      const [{ id }] = await db.query<{ id: string }[]>(
        "SELECT id FROM credentials WHERE path = 'vault/break-glass'",
      );
      await http()
        .put(`${API}/credentials/${id}/decoy`)
        .set(admin)
        .send({ decoy: true })
        .expect(200);

      await suspending.http
        .get(`${API}/secrets/vault/break-glass`)
        .set(intruder.headers)
        .expect(200);

      // Suspended in the reveal's own transaction: the next request is refused.
      await suspending.http
        .get(`${API}/secrets/vault/break-glass`)
        .set(intruder.headers)
        .expect(401);
    } finally {
      await suspending.close();
    }
  });

  describe('pre-commit-scan', () => {
    let repo: string;
    let hookKey: { headers: Record<string, string> };
    const git = (...args: string[]) => execFileSync('git', args, { cwd: repo });

    beforeAll(async () => {
      repo = mkdtempSync(join(tmpdir(), 'custos-hook-'));
      git('init', '-q');
      git('config', 'user.email', 'dev@example.test');
      git('config', 'user.name', 'Dev');
      hookKey = await serviceWithGrants(listen.sut, admin.authorization, [
        { pathPattern: 'hook/*', capabilities: ['read'] },
      ]);
      await apiKey('hook/payments', 'ak_hook_c3RhZ2VkLWluLWEtY29tbWl0LW5vdw');
      writeFileSync(
        join(repo, 'config.env'),
        'PAYMENTS_KEY=ak_hook_c3RhZ2VkLWluLWEtY29tbWl0LW5vdw\n',
      );
      git('add', 'config.env');
    });

    afterAll(() => rmSync(repo, { recursive: true, force: true }));

    /** Asynchronously: the app answering the hook runs in this process. */
    function runHook(
      extra: Record<string, string> = {},
    ): Promise<{ status: number; stderr: string }> {
      return new Promise((resolve) => {
        execFile(
          SCRIPT,
          [],
          {
            cwd: repo,
            timeout: 30_000,
            env: {
              PATH: process.env.PATH,
              CUSTOS_URL: listen.url,
              CUSTOS_API_KEY: hookKey.headers['x-api-key'],
              ...extra,
            },
          },
          (error, _stdout, stderr) =>
            resolve({ status: error ? Number(error.code ?? 1) : 0, stderr: String(stderr) }),
        );
      });
    }

    it('should block a commit that stages a stored secret, naming its path', async () => {
      const result = await runHook();

      expect(result.status).toBe(1);
      expect(result.stderr).toContain('hook/payments version 1 (current)');
      expect(result.stderr).not.toContain('c3RhZ2VkLWluLWEtY29tbWl0LW5vdw');
    });

    it('should let through a commit that deletes a stored secret: only added lines are scanned', async () => {
      git('commit', '-q', '--no-verify', '-m', 'leak');
      git('rm', '-q', 'config.env');
      writeFileSync(join(repo, 'notes.txt'), 'the key was removed\n');
      git('add', 'notes.txt');

      const result = await runHook();
      git('commit', '-q', '--no-verify', '-m', 'remove the leak');

      expect(result).toEqual({ status: 0, stderr: '' });
    });

    it('should find a stored secret after 236 KiB of lockfile lines, however dense', async () => {
      const lockLines = (kib: number) => {
        const lines: string[] = [];
        for (let i = 0, bytes = 0; bytes < kib * 1024; i++) {
          const pkg = `@scope/pkg-${kib}-${i}`;
          lines.push(
            `    "node_modules/${pkg}": {"version":"1.2.${i}","resolved":"https://registry.example/` +
              `${pkg}/-/pkg-1.2.${i}.tgz","integrity":"sha512-${randomBytes(66).toString('base64')}"},`,
          );
          bytes += lines[lines.length - 1].length + 1;
        }
        return lines;
      };
      // Where one 250 KiB scan stopped at its candidate cap before reaching it.
      const lines = [
        ...lockLines(236),
        '    "token": "ak_hook_c3RhZ2VkLWluLWEtY29tbWl0LW5vdw",',
        ...lockLines(64),
      ];
      writeFileSync(join(repo, 'package-lock.json'), `${lines.join('\n')}\n`);
      git('add', 'package-lock.json');

      const result = await runHook();
      git('reset', '-q', 'package-lock.json');

      expect(result.status).toBe(1);
      expect(result.stderr).toContain('hook/payments version 1 (current)');
    });

    it('should block a commit whose added line is too dense to scan to its end', async () => {
      const tokens = Array.from(
        { length: 25_000 },
        (_, i) => `t${i.toString(36).padStart(6, '0')}`,
      );
      writeFileSync(join(repo, 'dense.txt'), `${tokens.join(' ')}\n`);
      git('add', 'dense.txt');

      const result = await runHook();
      git('reset', '-q', 'dense.txt');

      expect(result.status).toBe(1);
      expect(result.stderr).toContain('could not tell whether they hold a stored secret');
      expect(result.stderr).toContain('CUSTOS_SCAN_BYPASS=1');
    });

    it('should let it through with the bypass flag and record the bypass', async () => {
      const result = await runHook({
        CUSTOS_SCAN_BYPASS: '1',
        CUSTOS_SCAN_BYPASS_REASON: 'test fixture, not a real key',
      });

      expect(result.status).toBe(0);
      const events = await db.query<{ details: string }[]>(
        "SELECT details FROM audit_events WHERE action = 'leak.scan.bypass'",
      );
      expect(events).toHaveLength(1);
      expect(String(events[0].details)).toContain('test fixture, not a real key');
    });
  });
});
