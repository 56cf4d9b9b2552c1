import { execFile } from 'node:child_process';
import { createHmac, createPublicKey, verify as verifySignature } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SchedulerRegistry } from '@nestjs/schedule';
import { DataSource } from 'typeorm';
import { AuditCheckpointer } from '../src/audit/audit-checkpointer';
import { OutboxRelay } from '../src/audit/outbox/outbox-relay';
import { derivePurposeKey } from '../src/crypto/purpose-keys';
import { ScratchDatabase } from '../src/database/cli/scratch-database';
import { EventRow, openDirect } from './helpers/audit-db';
import { ensureBuilt, MAIN } from './helpers/spawned-app';
import { bearerFor, scratchMariadb, startApp, TestApp } from './helpers/test-app';

interface CheckpointLine {
  type: 'audit.checkpoint';
  id: string;
  createdAt: string;
  headSeq: string | null;
  lanes: { lane: number; laneSeq: string; seq: string | null; hash: string | null }[];
  keyId: string;
  algorithm?: string;
  signature: string;
}

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Checkpoints kept outside the database: signed with Ed25519, checkable with the published
 * public key alone, and proof of a tail cut that the database itself no longer shows.
 */
describe('Audit checkpoints kept outside the database (MariaDB)', () => {
  let database: ScratchDatabase;
  let db: DataSource;
  let sut: TestApp;
  let auditor: string;
  let dir: string;
  let sinkFile: string;

  const cli = (...args: string[]): Promise<CliRun> =>
    new Promise((resolve) => {
      execFile(
        process.execPath,
        [MAIN.replace('main.js', 'audit/cli/audit-verify.js'), ...args],
        { env: { PATH: process.env.PATH, ...sut.env } },
        (error, stdout, stderr) =>
          resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
      );
    });
  const checkpointLines = (): CheckpointLine[] =>
    readFileSync(sinkFile, 'utf8')
      .split('\n')
      .filter((line) => line.includes('"audit.checkpoint"'))
      .map((line) => JSON.parse(line) as CheckpointLine);
  /** A checkpoint of the log as it is now, delivered to the file sink like any other. */
  const exportCheckpoint = async (): Promise<CheckpointLine> => {
    await sut.app.get(AuditCheckpointer).checkpoint();
    await sut.app.get(OutboxRelay).tick();
    return checkpointLines().at(-1)!;
  };
  const write = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  beforeAll(async () => {
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'custos-checkpoints-'));
    sinkFile = join(dir, 'audit.ndjson');
    database = await scratchMariadb();
    sut = await startApp(database, {
      env: { AUDIT_LANES: '2', AUDIT_SINKS: 'file', AUDIT_FILE_PATH: sinkFile },
    });
    db = await openDirect(database);
    auditor = await bearerFor(sut, 'auditor');
    for (let i = 0; i < 12; i++) await sut.http.get(`/api/v1/nothing/${i}`).expect(404);
  });

  afterAll(async () => {
    await sut?.close();
    await db?.destroy();
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('should have the schedule tick the checkpointer', () => {
    expect(sut.app.get(SchedulerRegistry).getIntervals()).toContain('audit-checkpoint');
  });

  it('should sign checkpoints with Ed25519 and send them to the sinks', async () => {
    const line = await exportCheckpoint();

    expect(line).toMatchObject({ type: 'audit.checkpoint', algorithm: 'Ed25519', keyId: 'k1' });
    expect(Buffer.from(line.signature, 'base64')).toHaveLength(64);
    const [row] = await db.query<{ algorithm: string; signature: string }[]>(
      'SELECT algorithm, signature FROM audit_checkpoints WHERE id = ?',
      [line.id],
    );
    expect(row).toEqual({ algorithm: 'Ed25519', signature: line.signature });
  });

  it('should publish the public key to auditors, enough to check a sink line as the README does', async () => {
    const line = await exportCheckpoint();
    const response = await sut.http
      .get('/api/v1/audit/public-key')
      .set('authorization', auditor)
      .expect(200);
    const body = response.body as {
      keyId: string;
      algorithm: string;
      publicKey: string;
      keys: { keyId: string; publicKey: string; active: boolean }[];
    };

    expect(body).toMatchObject({ keyId: 'k1', algorithm: 'Ed25519' });
    expect(body.keys).toEqual([
      { keyId: 'k1', algorithm: 'Ed25519', publicKey: body.publicKey, active: true },
    ]);
    // The README's recipe, with nothing from Custos but the public key.
    const rows = [...line.lanes]
      .sort((a, b) => a.lane - b.lane)
      .map((l) => [l.lane, l.laneSeq, l.seq, l.hash]);
    const message = JSON.stringify([
      'custos audit checkpoint v2',
      line.createdAt,
      line.headSeq,
      rows,
    ]);
    const key = createPublicKey(body.publicKey);
    const signature = Buffer.from(line.signature, 'base64');
    expect(verifySignature(null, Buffer.from(message), key, signature)).toBe(true);
    const lowered = message.replace(`"${line.lanes[0].laneSeq}"`, '"0"');
    expect(verifySignature(null, Buffer.from(lowered), key, signature)).toBe(false);
  });

  it('should refuse the public key to a viewer', async () => {
    const viewer = await bearerFor(sut, 'viewer');
    await sut.http.get('/api/v1/audit/public-key').set('authorization', viewer).expect(403);
    await sut.http.get('/api/v1/audit/public-key').expect(401);
  });

  it('should pass an honest log with the exported checkpoint, by the CLI and the API', async () => {
    await exportCheckpoint();
    // Later lines of other types do not hide the last checkpoint line.
    await sut.http.get('/api/v1/nothing/after').expect(404);
    await sut.app.get(OutboxRelay).tick();

    const run = await cli('--checkpoint', sinkFile);

    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: true });
    const api = await sut.http
      .post('/api/v1/audit/verify')
      .set('authorization', auditor)
      .send({ checkpoint: checkpointLines().at(-1) })
      .expect(200);
    expect(api.body).toMatchObject({ ok: true });
  });

  it('should reject a checkpoint file whose statement was edited', async () => {
    const line = await exportCheckpoint();
    const lane = line.lanes.find((l) => l.laneSeq !== '0')!;
    const edited = {
      ...line,
      lanes: line.lanes.map((l) =>
        l === lane ? { ...l, laneSeq: String(BigInt(l.laneSeq) + 1n) } : l,
      ),
    };

    const run = await cli('--checkpoint', write('edited.ndjson', `${JSON.stringify(edited)}\n`));

    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout)).toMatchObject({
      ok: false,
      reason: `the given checkpoint ${line.id} has an invalid signature (invalid signature)`,
    });
  });

  it.each([
    [
      'holds no checkpoint line',
      '{"type":"audit.event","seq":"1"}\n',
      /no "audit.checkpoint" line/,
    ],
    ['is not NDJSON', 'checkpoint\n', /line 1: not JSON/],
    [
      'holds a malformed checkpoint line',
      '{"type":"audit.checkpoint","id":"1","lanes":"all"}\n',
      /not well-formed \(createdAt, headSeq, lanes, keyId, signature\)/,
    ],
  ])('should exit 2 with a plain message for a file that %s', async (_case, text, message) => {
    const run = await cli('--checkpoint', write('bad.ndjson', text));

    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stdout).toBe('');
  });

  it('should exit 2 naming an option it does not know', async () => {
    const run = await cli('--chekpoint', sinkFile);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/Unknown option '--chekpoint'/);
  });

  it('should still verify a checkpoint line written before Ed25519 (HMAC, no algorithm field)', async () => {
    const line = await exportCheckpoint();
    // Such lines were signed with the audit-chain key, as the old checkpointer did.
    const chainKey = derivePurposeKey(
      Buffer.from(sut.env.CUSTOS_MASTER_KEY!, 'base64'),
      'audit-chain',
    );
    const lanesText = JSON.stringify(line.lanes.map((l) => [l.lane, l.laneSeq, l.seq, l.hash]));
    const legacy: CheckpointLine = {
      ...line,
      signature: createHmac('sha256', chainKey)
        .update('custos audit checkpoint v1\n')
        .update(JSON.stringify([line.createdAt, line.headSeq, lanesText]))
        .digest('hex'),
    };
    delete legacy.algorithm;

    const run = await cli('--checkpoint', write('legacy.ndjson', `${JSON.stringify(legacy)}\n`));

    expect(JSON.parse(run.stdout)).toMatchObject({ ok: true });
    expect(run.code).toBe(0);
  });

  describe('after a database root cut the tail and every trace of it inside the database', () => {
    let exported: CheckpointLine;
    let cutLane: number;
    let cutLaneSeq: string;

    beforeAll(async () => {
      exported = await exportCheckpoint();
      for (const trigger of [
        'audit_events_no_delete',
        'audit_chain_heads_no_rewind',
        'audit_checkpoints_no_delete',
      ]) {
        await db.query(`DROP TRIGGER ${trigger}`);
      }
      const [last] = await db.query<EventRow[]>(
        'SELECT * FROM audit_events ORDER BY seq DESC LIMIT 1',
      );
      const [previous] = await db.query<EventRow[]>(
        'SELECT * FROM audit_events WHERE lane = ? AND lane_seq < ? ORDER BY lane_seq DESC LIMIT 1',
        [last.lane, last.lane_seq],
      );
      cutLane = last.lane;
      cutLaneSeq = last.lane_seq;
      await db.query('DELETE FROM audit_events WHERE seq = ?', [last.seq]);
      await db.query(
        'UPDATE audit_chain_heads SET last_lane_seq = ?, last_seq = ?, last_hash = ? WHERE lane = ?',
        [previous.lane_seq, previous.seq, previous.hash, last.lane],
      );
      await db.query('DELETE FROM audit_checkpoints');
    });

    it('should look intact to a verify that has only the database', async () => {
      const run = await cli();

      expect(JSON.parse(run.stdout)).toMatchObject({ ok: true });
      expect(run.code).toBe(0);
    });

    it('should report the cut below the exported checkpoint and exit 1', async () => {
      const run = await cli('--checkpoint', sinkFile);

      expect(run.code).toBe(1);
      expect(JSON.parse(run.stdout)).toMatchObject({
        ok: false,
        reason: `the given checkpoint ${exported.id} saw lane ${cutLane} at lane_seq ${cutLaneSeq}, the chain now ends at ${BigInt(cutLaneSeq) - 1n}: events were removed`,
      });
    });

    it('should report it through the API too', async () => {
      const response = await sut.http
        .post('/api/v1/audit/verify')
        .set('authorization', auditor)
        .send({ checkpoint: exported })
        .expect(200);

      expect(response.body).toMatchObject({
        ok: false,
        reason: expect.stringMatching(/^the given checkpoint \d+ saw lane .* events were removed$/),
      });
    });
  });
});
