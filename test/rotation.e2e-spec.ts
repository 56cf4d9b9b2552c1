import { DataSource } from 'typeorm';
import { ScratchDatabase } from '../src/database/cli/scratch-database';
import { RotationScheduler } from '../src/rotation/engine/rotation-scheduler';
import type { Rotator, RotationContext } from '../src/rotation/rotators/rotator';
import { RotatorRegistry } from '../src/rotation/rotators/rotator-registry';
import { openDirect } from './helpers/audit-db';
import { createCredential, CredentialMetadata, Headers } from './helpers/credential-fixtures';
import { serviceWithGrants } from './helpers/principals';
import { bearerFor, scratchMariadb, startApp, TestApp } from './helpers/test-app';
import { until } from './helpers/rotation-checks';

const API = '/api/v1';
const ENV = {
  THROTTLE_LIMIT: '100000',
  ROTATION_TICK: 'PT1S',
  ROTATION_MAX_ATTEMPTS: '3',
  ROTATION_RETRY_BACKOFF: 'PT1S',
  ROTATION_FAILED_RETRY_AFTER: 'PT1H',
};

interface Run {
  id: string;
  status: string;
  step: string;
  attempt: number;
  error: string | null;
  trigger: string;
  emergency: boolean;
  pendingVersion: number | null;
}

/** A rotator whose apply step fails every time, remembering each value it was given. */
class FailingRotator implements Rotator {
  readonly kind = 'always-fails';
  readonly settingsClass = class {};
  readonly values: string[] = [];
  describe() {
    return {
      kind: this.kind,
      summary: 'fails',
      types: ['password'] as const,
      usesGenerator: false,
      settings: {},
    };
  }
  create() {
    return Promise.resolve({ password: `fresh-${Math.random().toString(36).slice(2)}` });
  }
  async apply(context: RotationContext) {
    this.values.push(String((await context.pendingValue()).password));
    throw new Error('target refused the new password (test)');
  }
  test() {
    return Promise.resolve();
  }
  finish() {
    return Promise.resolve();
  }
}

/** A rotator whose apply step waits until the test opens the gate, counting who is waiting. */
class GatedRotator implements Rotator {
  readonly kind = 'gated';
  readonly settingsClass = class {};
  waiting = 0;
  private open!: () => void;
  private gate = this.close();
  describe() {
    return {
      kind: this.kind,
      summary: 'waits',
      types: ['password'] as const,
      usesGenerator: false,
      settings: {},
    };
  }
  create() {
    return Promise.resolve({ password: `gated-${Math.random().toString(36).slice(2)}` });
  }
  async apply() {
    this.waiting++;
    await this.gate;
  }
  test() {
    return Promise.resolve();
  }
  finish() {
    return Promise.resolve();
  }
  release() {
    this.open();
    this.gate = this.close();
  }
  private close(): Promise<void> {
    return new Promise((resolve) => (this.open = resolve));
  }
}

describe('Rotation engine (MariaDB)', () => {
  let database: ScratchDatabase;
  let db: DataSource;
  let sut: TestApp;
  let admin: Headers;
  let operator: Headers;
  let auditor: Headers;
  let viewer: Headers;
  const failing = new FailingRotator();
  const gated = new GatedRotator();
  /** Created first with a 1-minute policy and left alone: checked last, after a real minute. */
  let everyMinute: CredentialMetadata;
  let everyMinuteSetAt: number;

  beforeAll(async () => {
    database = await scratchMariadb();
    sut = await startApp(database, { env: ENV });
    sut.app.get(RotatorRegistry).register(failing);
    sut.app.get(RotatorRegistry).register(gated);
    db = await openDirect(database);
    admin = { authorization: await bearerFor(sut, 'admin') };
    operator = { authorization: await bearerFor(sut, 'operator') };
    auditor = { authorization: await bearerFor(sut, 'auditor') };
    viewer = { authorization: await bearerFor(sut, 'viewer') };
    everyMinute = await createCredential(sut, admin, { path: 'clock/every-minute' });
    await putPolicy(everyMinute.id, { interval: 'PT1M', gracePeriod: 'PT30S' });
    everyMinuteSetAt = Date.now();
  });

  afterAll(async () => {
    await sut?.close();
    await db?.destroy();
    await database?.drop();
  });

  async function putPolicy(id: string, fields: Record<string, unknown>, kind = 'generated') {
    await sut.http
      .put(`${API}/credentials/${id}/rotation`)
      .set(admin)
      .send({ enabled: true, rotator: { kind }, ...fields })
      .expect(200);
  }

  async function rotate(id: string, body: Record<string, unknown> = {}, headers = operator) {
    const response = await sut.http
      .post(`${API}/credentials/${id}/rotate`)
      .set(headers)
      .send(body)
      .expect(202);
    return response.body as { runId: string; status: string; opened: boolean };
  }

  async function run(runId: string): Promise<Run> {
    const response = await sut.http.get(`${API}/rotations/${runId}`).set(auditor).expect(200);
    return response.body as Run;
  }

  function settled(runId: string): Promise<Run> {
    return until(async () => {
      const current = await run(runId);
      return current.status === 'running' ? undefined : current;
    });
  }

  async function reveal(id: string, version?: number) {
    return sut.http
      .post(`${API}/credentials/${id}/reveal`)
      .set(admin)
      .send(version === undefined ? { reason: 'test' } : { version, reason: 'test' });
  }

  async function versionStates(id: string): Promise<Record<number, string>> {
    const rows = await db.query<{ version: number; state: string }[]>(
      'SELECT version, state FROM credential_versions WHERE credential_id = ? ORDER BY version',
      [id],
    );
    return Object.fromEntries(rows.map((r) => [r.version, r.state]));
  }

  async function events(type: string, credentialId: string): Promise<Record<string, unknown>[]> {
    const rows = await db.query<{ payload: string }[]>(
      'SELECT payload FROM event_outbox WHERE type = ? AND resource_id = ? ORDER BY seq',
      [type, credentialId],
    );
    return rows.map((r) => JSON.parse(r.payload) as Record<string, unknown>);
  }

  async function auditActions(credentialId: string): Promise<string[]> {
    const rows = await db.query<{ action: string }[]>(
      "SELECT action FROM audit_events WHERE resource_id = ? AND action LIKE 'rotation.%' " +
        "AND action NOT LIKE 'rotation.policy.%' ORDER BY seq",
      [credentialId],
    );
    return rows.map((r) => r.action);
  }

  it('should rotate on request, proving the new value and keeping the old one through its grace', async () => {
    const credential = await createCredential(sut, admin, { path: 'acme/api/rotate-now' });
    await putPolicy(credential.id, { interval: 'P30D', gracePeriod: 'PT3S' });
    const before = (await reveal(credential.id)).body as { secret: { password: string } };

    const accepted = await rotate(credential.id, { reason: 'quarterly' });
    expect(accepted).toMatchObject({ status: 'running', opened: true });
    const done = await settled(accepted.runId);

    expect(done).toMatchObject({
      status: 'succeeded',
      step: 'done',
      attempt: 1,
      pendingVersion: 2,
    });
    const now = (await reveal(credential.id)).body as {
      version: number;
      secret: { password: string };
    };
    expect(now.version).toBe(2);
    expect(now.secret.password).not.toBe(before.secret.password);
    expect(now.secret.password).toHaveLength(32);
    expect(await versionStates(credential.id)).toEqual({ 1: 'previous', 2: 'current' });
    expect((await reveal(credential.id, 1)).status).toBe(200);

    await new Promise((resolve) => setTimeout(resolve, 3_200));
    expect((await reveal(credential.id, 1)).status).toBe(409);
    expect(await auditActions(credential.id)).toEqual(['rotation.started', 'rotation.succeeded']);
    expect(await events('rotation.succeeded', credential.id)).toEqual([
      expect.objectContaining({ runId: accepted.runId, version: 2, previousVersion: 1 }),
    ]);
  });

  it('should refuse a second rotation while one is open, naming the open run', async () => {
    const credential = await createCredential(sut, admin, { path: 'acme/api/busy' });
    const first = await rotate(credential.id); // no policy: a manual run that waits
    const second = await sut.http
      .post(`${API}/credentials/${credential.id}/rotate`)
      .set(operator)
      .send({})
      .expect(409);
    expect(second.body).toMatchObject({ details: { runId: first.runId } });
  });

  it('should wait for a person on a manual rotation and finish with the value they write', async () => {
    const credential = await createCredential(sut, admin, { path: 'acme/db/manual' });
    await putPolicy(credential.id, { interval: 'P30D', gracePeriod: 'PT1H' }, 'manual');
    const accepted = await rotate(credential.id);
    const waiting = await settled(accepted.runId);
    expect(waiting).toMatchObject({ status: 'waiting', step: 'finish' });
    const metadata = await sut.http
      .get(`${API}/credentials/${credential.id}`)
      .set(admin)
      .expect(200);
    expect(metadata.body).toMatchObject({ rotationStatus: 'awaiting_value' });
    expect(await events('rotation.due', credential.id)).toHaveLength(1);

    await sut.http
      .put(`${API}/credentials/${credential.id}/secret`)
      .set(operator)
      .send({ secret: { password: 'typed-by-a-person' } })
      .expect(200);

    expect(await run(accepted.runId)).toMatchObject({ status: 'succeeded', pendingVersion: 2 });
    expect(await versionStates(credential.id)).toEqual({ 1: 'previous', 2: 'current' });
    const after = await sut.http.get(`${API}/credentials/${credential.id}`).set(admin).expect(200);
    expect(after.body).toMatchObject({ rotationStatus: 'scheduled' });
  });

  it('should refuse a manual secret write while an automatic rotation is in flight', async () => {
    const credential = await createCredential(sut, admin, { path: 'acme/api/in-flight' });
    await putPolicy(credential.id, { interval: 'P30D', gracePeriod: 'PT1H' }, 'always-fails');
    const accepted = await rotate(credential.id);
    const response = await sut.http
      .put(`${API}/credentials/${credential.id}/secret`)
      .set(operator)
      .send({ secret: { password: 'racing-the-rotator' } });
    // Either the run is still open (409 naming it) or it has already failed and released the
    // credential; never a write that slips in beside a pending value.
    if (response.status === 409) {
      expect(response.body).toMatchObject({ details: { runId: accepted.runId } });
    } else {
      expect(response.status).toBe(200);
    }
    await settled(accepted.runId);
  });

  it('should retry a failing rotator with a fresh value each time, then fail leaving the current value serving', async () => {
    const credential = await createCredential(sut, admin, { path: 'acme/api/flaky' });
    await putPolicy(credential.id, { interval: 'P30D', gracePeriod: 'PT1H' }, 'always-fails');
    failing.values.length = 0;
    const accepted = await rotate(credential.id);

    // Attempts 2 and 3 wait for their backoff and are claimed by the scheduler's ticks.
    const done = await until(async () => {
      await sut.app.get(RotationScheduler).tick();
      const current = await run(accepted.runId);
      return current.status === 'failed' ? current : undefined;
    });

    expect(done).toMatchObject({ status: 'failed', attempt: 3, step: 'done' });
    expect(done.error).toContain('target refused the new password');
    expect(new Set(failing.values).size).toBe(3);
    const states = await versionStates(credential.id);
    expect(states).toEqual({ 1: 'current', 2: 'destroyed', 3: 'destroyed', 4: 'destroyed' });
    const revealed = (await reveal(credential.id)).body as { version: number; secret: unknown };
    expect(revealed).toMatchObject({ version: 1, secret: { password: 'pw-acme/api/flaky' } });
    const metadata = await sut.http
      .get(`${API}/credentials/${credential.id}`)
      .set(admin)
      .expect(200);
    const body = metadata.body as { rotationStatus: string; nextRotationAt: string };
    expect(body.rotationStatus).toBe('failed');
    // The next attempt is scheduled an hour out, not at once and not never.
    const inMinutes = (Date.parse(body.nextRotationAt) - Date.now()) / 60_000;
    expect(inMinutes).toBeGreaterThan(55);
    expect(inMinutes).toBeLessThan(61);
    expect(await events('rotation.failed', credential.id)).toEqual([
      expect.objectContaining({ runId: accepted.runId, attempts: 3, currentVersion: 1 }),
    ]);
    const actions = await auditActions(credential.id);
    expect(actions.filter((a) => a === 'rotation.attempt.failed')).toHaveLength(2);
    expect(actions[actions.length - 1]).toBe('rotation.failed');

    // A retry is a new run; the failed one stays as it was.
    await putPolicy(credential.id, { interval: 'P30D', gracePeriod: 'PT1H' });
    const retried = await sut.http
      .post(`${API}/rotations/${accepted.runId}/retry`)
      .set(operator)
      .expect(202);
    const retry = await settled((retried.body as { runId: string }).runId);
    expect(retry).toMatchObject({ status: 'succeeded', pendingVersion: 5 });
    expect(await run(accepted.runId)).toMatchObject({ status: 'failed' });
  });

  it('should rotate due credentials as one batch, a failing hook and a credential deleted meanwhile failing alone', async () => {
    const paths = ['batch/a', 'batch/b', 'batch/c', 'batch/doomed'];
    const fleet = await Promise.all(paths.map((path) => createCredential(sut, admin, { path })));
    for (const { id } of fleet)
      await putPolicy(id, { interval: 'P30D', gracePeriod: 'PT1H' }, 'gated');
    const flaky = await createCredential(sut, admin, { path: 'batch/flaky' });
    await putPolicy(flaky.id, { interval: 'P30D', gracePeriod: 'PT1H' }, 'always-fails');
    gated.waiting = 0;
    await db.query(
      "UPDATE credentials SET next_rotation_at = UTC_TIMESTAMP(3) - INTERVAL 1 SECOND WHERE path LIKE 'batch/%'",
    );

    // The scheduler ticks every second by itself; every gated run reaches apply side by side.
    await until(() => Promise.resolve(gated.waiting === 4 ? true : undefined));
    const doomed = fleet[3];
    await sut.http.delete(`${API}/credentials/${doomed.id}`).set(admin).expect(204);
    gated.release();

    const runs = await until(async () => {
      const rows = await db.query<
        { credential_id: string; status: string; attempt: number; error: string | null }[]
      >(
        'SELECT credential_id, status, attempt, error FROM rotation_runs WHERE credential_id IN (?, ?, ?, ?, ?)',
        [...fleet.map((c) => c.id), flaky.id],
      );
      const byCredential = new Map(rows.map((row) => [row.credential_id, row]));
      const settledGated = fleet.every((c) => byCredential.get(c.id)?.status !== 'running');
      return settledGated && Number(byCredential.get(flaky.id)?.attempt) >= 2
        ? byCredential
        : undefined;
    });
    for (const { id } of fleet.slice(0, 3)) {
      expect(runs.get(id)).toMatchObject({ status: 'succeeded', error: null });
      expect(await versionStates(id)).toEqual({ 1: 'previous', 2: 'current' });
    }
    expect(runs.get(doomed.id)).toMatchObject({
      status: 'failed',
      error: 'the credential is deleted',
    });
    expect((await versionStates(doomed.id))[2]).toBe('destroyed');
    // The failing hook failed its own attempt only; the batch went on without it.
    expect(runs.get(flaky.id)).toMatchObject({ status: 'running' });
    expect(await auditActions(flaky.id)).toContain('rotation.attempt.failed');
  });

  it('should revoke the old value at once in an emergency', async () => {
    const credential = await createCredential(sut, admin, { path: 'acme/api/leaked' });
    await putPolicy(credential.id, { interval: 'P30D', gracePeriod: 'PT24H' });
    const accepted = await rotate(credential.id, { emergency: true, reason: 'pasted in chat' });
    const done = await settled(accepted.runId);
    expect(done).toMatchObject({ status: 'succeeded', trigger: 'emergency', emergency: true });
    expect(await versionStates(credential.id)).toEqual({ 1: 'revoked', 2: 'current' });
    expect((await reveal(credential.id, 1)).status).toBe(409);
  });

  it('should make the open run an emergency rather than refuse an emergency request', async () => {
    const credential = await createCredential(sut, admin, { path: 'acme/db/escalate' });
    const waiting = await rotate(credential.id); // manual: waits for a person
    await settled(waiting.runId);
    const escalated = await rotate(credential.id, { emergency: true });
    expect(escalated).toMatchObject({ runId: waiting.runId, opened: false });
    await sut.http
      .put(`${API}/credentials/${credential.id}/secret`)
      .set(operator)
      .send({ secret: { password: 'replaced-in-a-hurry' } })
      .expect(200);
    expect(await versionStates(credential.id)).toEqual({ 1: 'revoked', 2: 'current' });
  });

  it('should emergency-rotate everything under a path for an admin only', async () => {
    const a = await createCredential(sut, admin, { path: 'breach/host/a' });
    const b = await createCredential(sut, admin, { path: 'breach/host/b' });
    await putPolicy(a.id, { interval: 'P30D', gracePeriod: 'PT24H' });
    await putPolicy(b.id, { interval: 'P30D', gracePeriod: 'PT24H' });
    const body = { pathPattern: 'breach/**', reason: 'host compromised' };
    await sut.http.post(`${API}/rotations/emergency`).set(operator).send(body).expect(403);

    const response = await sut.http
      .post(`${API}/rotations/emergency`)
      .set(admin)
      .send(body)
      .expect(202);
    const runs = (response.body as { runs: { credentialId: string; runId: string }[] }).runs;
    expect(runs.map((r) => r.credentialId).sort()).toEqual([a.id, b.id].sort());
    for (const r of runs) expect(await settled(r.runId)).toMatchObject({ status: 'succeeded' });
    expect(await versionStates(a.id)).toEqual({ 1: 'revoked', 2: 'current' });
    expect(await versionStates(b.id)).toEqual({ 1: 'revoked', 2: 'current' });
  });

  it('should list history by credential and across credentials, with filters', async () => {
    const credential = await createCredential(sut, admin, { path: 'acme/api/history' });
    await putPolicy(credential.id, { interval: 'P30D', gracePeriod: 'PT1S' });
    for (let i = 0; i < 3; i++) await settled((await rotate(credential.id)).runId);

    const page1 = await sut.http
      .get(`${API}/credentials/${credential.id}/rotations?limit=2`)
      .set(viewer)
      .expect(200);
    const body1 = page1.body as { items: Run[]; nextCursor: string };
    expect(body1.items).toHaveLength(2);
    const page2 = await sut.http
      .get(`${API}/credentials/${credential.id}/rotations?limit=2&cursor=${body1.nextCursor}`)
      .set(viewer)
      .expect(200);
    expect((page2.body as { items: Run[]; nextCursor: null }).items).toHaveLength(1);
    expect((page2.body as { nextCursor: null }).nextCursor).toBeNull();

    const failed = await sut.http.get(`${API}/rotations?status=failed`).set(auditor).expect(200);
    expect((failed.body as { items: Run[] }).items.every((r) => r.status === 'failed')).toBe(true);
    await sut.http.get(`${API}/rotations?status=exploded`).set(auditor).expect(400);
  });

  it('should count runs by trigger and outcome in /metrics', async () => {
    const text = (await sut.http.get('/metrics').expect(200)).text;
    const count = (labels: string) =>
      Number(new RegExp(`^custos_rotations_total\\{${labels}\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
    expect(count('trigger="manual",outcome="succeeded"')).toBeGreaterThan(0);
    expect(count('trigger="manual",outcome="failed"')).toBeGreaterThan(0);
    expect(count('trigger="emergency",outcome="succeeded"')).toBeGreaterThan(0);
  });

  describe('who may', () => {
    let credential: CredentialMetadata;

    beforeAll(async () => {
      credential = await createCredential(sut, admin, { path: 'team/x/who-may' });
      await putPolicy(credential.id, { interval: 'P30D', gracePeriod: 'PT1H' });
    });

    it('should refuse rotation to viewers and auditors (403) and hide it from services without a grant (404)', async () => {
      for (const headers of [viewer, auditor]) {
        await sut.http
          .post(`${API}/credentials/${credential.id}/rotate`)
          .set(headers)
          .send({})
          .expect(403);
      }
      const { headers: stranger } = await serviceWithGrants(sut, admin.authorization, [
        { pathPattern: 'elsewhere/**', capabilities: ['read', 'rotate'] },
      ]);
      await sut.http
        .post(`${API}/credentials/${credential.id}/rotate`)
        .set(stranger)
        .send({})
        .expect(404);
      await sut.http.get(`${API}/credentials/${credential.id}/rotations`).set(stranger).expect(404);
    });

    it('should let a service rotate with a rotate grant on the path', async () => {
      const { headers: rotator } = await serviceWithGrants(sut, admin.authorization, [
        { pathPattern: 'team/x/*', capabilities: ['read', 'rotate'] },
      ]);
      const accepted = await rotate(credential.id, {}, rotator);
      expect(await settled(accepted.runId)).toMatchObject({ status: 'succeeded' });
      await sut.http.get(`${API}/rotations/${accepted.runId}`).set(rotator).expect(200);
      // Reading one run is fine; the list across every credential is for roles that see all.
      await sut.http.get(`${API}/rotations`).set(rotator).expect(403);
    });

    it('should keep the list across credentials from viewers', async () => {
      await sut.http.get(`${API}/rotations`).set(viewer).expect(403);
      await sut.http.get(`${API}/rotations`).set(operator).expect(200);
    });

    it('should refuse bad bodies with a 400 and change nothing', async () => {
      for (const body of [{ emergency: 'yes' }, { reason: '' }, { extra: 1 }]) {
        await sut.http
          .post(`${API}/credentials/${credential.id}/rotate`)
          .set(admin)
          .send(body)
          .expect(400);
      }
      await sut.http
        .post(`${API}/rotations/emergency`)
        .set(admin)
        .send({ pathPattern: 'a/**' })
        .expect(400);
      await sut.http.post(`${API}/rotations/not-a-uuid/retry`).set(admin).expect(400);
    });
  });

  it('should have rotated the 1-minute credential by itself, once a minute', async () => {
    const waitUntil = everyMinuteSetAt + 62_000;
    const first = await until(
      async () => {
        const rows = await db.query<{ n: number }[]>(
          "SELECT COUNT(*) AS n FROM rotation_runs WHERE credential_id = ? AND status = 'succeeded'",
          [everyMinute.id],
        );
        return Number(rows[0].n) >= 1 ? Number(rows[0].n) : undefined;
      },
      Math.max(waitUntil - Date.now(), 0) + 15_000,
    );
    expect(first).toBe(1);
    const runs = await db.query<{ triggered_by: string }[]>(
      'SELECT triggered_by FROM rotation_runs WHERE credential_id = ?',
      [everyMinute.id],
    );
    expect(runs).toEqual([{ triggered_by: 'schedule' }]);
    expect(await versionStates(everyMinute.id)).toEqual({ 1: 'previous', 2: 'current' });
    const actions = await db.query<{ actor_type: string }[]>(
      "SELECT actor_type FROM audit_events WHERE resource_id = ? AND action = 'rotation.succeeded'",
      [everyMinute.id],
    );
    expect(actions).toEqual([{ actor_type: 'system' }]);
  });
});
