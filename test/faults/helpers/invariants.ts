import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DataSource } from 'typeorm';
import { RestoreCheck } from '../../../src/cli/restore-check';
import { loadCryptoConfig } from '../../../src/config/crypto.config';
import { loadMasterKeys } from '../../../src/crypto/master-key-loader';
import { versionViolations } from '../../helpers/rotation-checks';

const ROOT = join(__dirname, '..', '..', '..');
const AUDIT_VERIFY = join(ROOT, 'dist', 'src', 'audit', 'cli', 'audit-verify.js');

/** One answer a client received from the app, as the load recorded it. */
export interface Answer {
  kind: 'reveal' | 'write';
  /** The X-Request-Id the client sent (and the app answered with). */
  requestId: string;
  credentialId: string;
  /** 0 when no answer came at all (connection reset, timeout). */
  status: number;
  /** For a 200 reveal: the version and state it carried. */
  version?: number;
  state?: string;
  /** When the request was sent and when its answer (or failure) came, in ms since the epoch. */
  sentAt: number;
  answeredAt: number;
  /** The body of an answer other than 200 (an error body, small), as received. */
  errorBody?: string;
  /** The Retry-After header of the answer, if it had one (a 503 should). */
  retryAfter?: string;
  /** Whether the body had a `secret` field (only a 200 reveal may). */
  bodyHasSecret?: boolean;
}

export interface InvariantInputs {
  /** A direct connection to the database (never through the relay). */
  db: DataSource;
  /** The DATABASE_URL of the database, direct (for the audit-verify CLI). */
  databaseUrl: string;
  /** CUSTOS_MASTER_KEY of the instances. */
  masterKey: string;
  /** What the clients received during the test. */
  answers: readonly Answer[];
  /**
   * How long after its grace a previous version may still be `previous` (the sweeper runs every
   * ROTATION_SWEEP_INTERVAL); default one minute, the sweeper's default.
   */
  sweepSlackSeconds?: number;
  /**
   * The base URLs of the instances still running: each must answer readiness 200 by itself
   * (nothing restarted) within `recoveryMs`.
   */
  instances?: readonly string[];
  /**
   * How long the service may take to recover (readiness back, runs resumed) before the checker
   * reports it; default 30 s.
   */
  recoveryMs?: number;
  /** A claim expired this long ago is a run nobody resumed; default 10 s (a few ticks). */
  claimSlackSeconds?: number;
}

/**
 * Everything that must hold after a fault, whatever the fault was; returns what does not (empty
 * when all is well). Each line names the credential, version or request it is about, never a value.
 *
 * - the version invariants of DESIGN.md §5 (one current, at most one pending, contiguous);
 * - every stored version decrypts with the master key (the restore check's walk);
 * - a previous version is one within its grace (up to the sweeper's slack), and every reveal
 *   that answered a previous version was audited before that grace ended;
 * - every committed version has the audit event that made it (create, secret update, rotation),
 *   a pending one belongs to a running rotation, every credential has its create event, and
 *   every such event names a version that is still there or was pruned;
 * - every 200 reveal and write a client received has its committed audit event, by request id
 *   (the fail-closed audit of DESIGN.md §4: no secret left without its event);
 * - `npm run audit:verify` (the CLI, straight on the database) says the chain is intact;
 * - the service recovered by itself: every running instance answers readiness 200, and no
 *   rotation run is left running under a claim that expired (its holder died or lost the
 *   database) or due and unclaimed, since another tick would have resumed it. Checked first,
 *   waiting up to `recoveryMs`, so the rest looks at a settled database.
 */
export async function checkInvariants(inputs: InvariantInputs): Promise<string[]> {
  const { db } = inputs;
  const query = <T>(sql: string, params?: unknown[]) => db.query<T[]>(sql, params);
  const problems: string[] = [];
  problems.push(...(await recoveryProblems(query, inputs)));
  problems.push(...(await versionViolations((sql, params) => db.query(sql, params))));
  problems.push(...(await decryptProblems(db, inputs.masterKey)));
  problems.push(...(await graceProblems(query, inputs)));
  problems.push(...(await versionAuditProblems(query)));
  problems.push(...(await answerAuditProblems(query, inputs.answers)));
  problems.push(...(await verifyProblems(inputs)));
  return problems;
}

type Q = <T>(sql: string, params?: unknown[]) => Promise<T[]>;

async function readiness(baseUrl: string): Promise<number> {
  try {
    const response = await fetch(`${baseUrl}/api/v1/health/ready`, {
      signal: AbortSignal.timeout(5_000),
    });
    await response.body?.cancel();
    return response.status;
  } catch {
    return 0;
  }
}

/** What is still not recovered now (empty when everything is). */
async function notRecovered(query: Q, inputs: InvariantInputs): Promise<string[]> {
  const problems: string[] = [];
  const slack = inputs.claimSlackSeconds ?? 10;
  for (const baseUrl of inputs.instances ?? []) {
    const status = await readiness(baseUrl);
    if (status !== 200) problems.push(`${baseUrl}: readiness ${status}, not recovered`);
  }
  const stuck = await query<{ id: string; credential_id: string; claimed_by: string | null }>(
    // Due a while ago and no live claim: a tick of any instance would have taken it.
    "SELECT id, credential_id, claimed_by FROM rotation_runs WHERE status = 'running' " +
      'AND next_attempt_at < UTC_TIMESTAMP(3) - INTERVAL ? SECOND ' +
      'AND (claimed_by IS NULL OR claim_expires_at < UTC_TIMESTAMP(3) - INTERVAL ? SECOND)',
    [slack, slack],
  );
  for (const run of stuck) {
    problems.push(
      `run ${run.id} of ${run.credential_id}: still running, ` +
        (run.claimed_by ? 'its claim long expired' : 'due and unclaimed') +
        ', not resumed',
    );
  }
  return problems;
}

async function recoveryProblems(query: Q, inputs: InvariantInputs): Promise<string[]> {
  const deadline = Date.now() + (inputs.recoveryMs ?? 30_000);
  for (;;) {
    const problems = await notRecovered(query, inputs);
    if (problems.length === 0 || Date.now() > deadline) return problems;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function decryptProblems(db: DataSource, masterKey: string): Promise<string[]> {
  const crypto = loadCryptoConfig({ CUSTOS_MASTER_KEY: masterKey });
  const loaded = loadMasterKeys({ ...crypto, isProduction: true, dataDir: '/nonexistent' });
  const report = await new RestoreCheck(db, loaded!.keys, crypto.masterKeyId, 50).run();
  const problems = report.failures.map((failure) => `restore check: ${failure}`);
  if (report.keyring) problems.push(`restore check: master keys: ${report.keyring}`);
  return problems;
}

async function graceProblems(query: Q, inputs: InvariantInputs): Promise<string[]> {
  const slack = inputs.sweepSlackSeconds ?? 60;
  const overdue = await query<{ credential_id: string; version: number; grace_until: Date | null }>(
    'SELECT credential_id, version, grace_until FROM credential_versions ' +
      "WHERE state = 'previous' AND (grace_until IS NULL OR " +
      'grace_until < UTC_TIMESTAMP(3) - INTERVAL ? SECOND)',
    [slack],
  );
  const problems = overdue.map(
    (row) =>
      `${row.credential_id} v${row.version}: previous with grace_until ` +
      `${row.grace_until?.toISOString() ?? 'null'} (past its grace)`,
  );
  const previousReveals = inputs.answers.filter(
    (answer) => answer.kind === 'reveal' && answer.status === 200 && answer.state === 'previous',
  );
  for (const answer of previousReveals) {
    const [row] = await query<{ occurred_at: Date; grace_until: Date | null }>(
      'SELECT e.occurred_at, v.grace_until FROM audit_events e JOIN credential_versions v ' +
        'ON v.credential_id = e.resource_id AND v.version = ? ' +
        "WHERE e.request_id = ? AND e.action = 'credential.reveal'",
      [answer.version, answer.requestId],
    );
    if (row && (!row.grace_until || row.occurred_at > row.grace_until)) {
      problems.push(
        `reveal ${answer.requestId}: answered previous v${answer.version} of ` +
          `${answer.credentialId} after its grace`,
      );
    }
  }
  return problems;
}

/** The actions that make a version current (details.version names it). */
const VERSION_MAKERS = ['credential.secret.update', 'rotation.succeeded'];

async function versionAuditProblems(query: Q): Promise<string[]> {
  const problems: string[] = [];
  const versions = await query<{ credential_id: string; version: number; state: string }>(
    'SELECT credential_id, version, state FROM credential_versions',
  );
  const events = await query<{ action: string; resource_id: string; details: string }>(
    'SELECT action, resource_id, details FROM audit_events WHERE action IN (?)',
    [['credential.create', 'rotation.started', ...VERSION_MAKERS]],
  );
  const made = new Set<string>();
  const started = new Set<string>();
  for (const event of events) {
    const details = JSON.parse(event.details) as { version?: number; runId?: string };
    if (event.action === 'credential.create') made.add(`${event.resource_id}:1`);
    else if (event.action === 'rotation.started') started.add(String(details.runId));
    else made.add(`${event.resource_id}:${Number(details.version)}`);
  }
  const runs = await query<{ id: string; credential_id: string; pending_version: number }>(
    "SELECT id, credential_id, pending_version FROM rotation_runs WHERE status = 'running' " +
      'AND pending_version IS NOT NULL',
  );
  const open = new Map(runs.map((run) => [`${run.credential_id}:${run.pending_version}`, run.id]));
  const lowest = new Map<string, number>();
  const kept = new Set<string>();
  for (const { credential_id: id, version, state } of versions) {
    const key = `${id}:${Number(version)}`;
    kept.add(key);
    lowest.set(id, Math.min(lowest.get(id) ?? Infinity, Number(version)));
    if (state === 'pending') {
      const runId = open.get(key);
      if (!runId) problems.push(`${id} v${version}: pending without a running rotation`);
      else if (!started.has(runId)) problems.push(`${id} v${version}: run ${runId} not audited`);
    } else if (!made.has(key)) {
      problems.push(`${id} v${version} (${state}): committed without its audit event`);
    }
  }
  const credentials = await query<{ id: string }>('SELECT id FROM credentials');
  for (const { id } of credentials) {
    if (!made.has(`${id}:1`)) problems.push(`${id}: stored without its credential.create event`);
  }
  for (const key of made) {
    const [id, version] = key.split(':');
    if (!kept.has(key) && Number(version) >= (lowest.get(id) ?? Infinity)) {
      problems.push(`${id} v${version}: audited, but the version is not stored`);
    }
  }
  return problems;
}

async function answerAuditProblems(query: Q, answers: readonly Answer[]): Promise<string[]> {
  const problems: string[] = answers
    .filter(
      (answer) => answer.bodyHasSecret && !(answer.kind === 'reveal' && answer.status === 200),
    )
    .map((answer) => `${answer.kind} ${answer.requestId}: a ${answer.status} with a secret in it`);
  const answered = answers.filter((answer) => answer.status === 200);
  if (answered.length === 0) return problems;
  const events = new Map<string, { action: string; resource_id: string; details: string }>();
  for (let i = 0; i < answered.length; i += 500) {
    const rows = await query<{
      request_id: string;
      action: string;
      resource_id: string;
      outcome: string;
      details: string;
    }>(
      'SELECT request_id, action, resource_id, outcome, details FROM audit_events ' +
        "WHERE request_id IN (?) AND outcome = 'success'",
      [answered.slice(i, i + 500).map((answer) => answer.requestId)],
    );
    for (const row of rows) events.set(`${row.request_id}:${row.action}`, row);
  }
  for (const answer of answered) {
    const action = answer.kind === 'reveal' ? 'credential.reveal' : 'credential.secret.update';
    const event = events.get(`${answer.requestId}:${action}`);
    if (!event) {
      problems.push(
        `${answer.kind} ${answer.requestId} of ${answer.credentialId}: answered 200, ` +
          `but no committed ${action} event`,
      );
    } else if (event.resource_id !== answer.credentialId) {
      problems.push(`${answer.kind} ${answer.requestId}: event names ${event.resource_id}`);
    } else if (
      answer.kind === 'reveal' &&
      Number((JSON.parse(event.details) as { version?: number }).version) !== answer.version
    ) {
      problems.push(`reveal ${answer.requestId}: answered v${answer.version}, audited another`);
    }
  }
  return problems;
}

async function verifyProblems(inputs: InvariantInputs): Promise<string[]> {
  const env = {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATABASE_URL: inputs.databaseUrl,
    CUSTOS_MASTER_KEY: inputs.masterKey,
  };
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [AUDIT_VERIFY], {
      cwd: ROOT,
      env,
    });
    const result = JSON.parse(stdout.trim().split('\n').pop()!) as { ok: boolean };
    return result.ok ? [] : [`audit verify: ${stdout.trim()}`];
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return [`audit verify exited ${failed.code}: ${failed.stdout ?? ''}${failed.stderr ?? ''}`];
  }
}
