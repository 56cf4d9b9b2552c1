import { DataSource } from 'typeorm';
import { UsersService } from '../src/auth/users/users.service';
import { ScratchDatabase } from '../src/database/cli/scratch-database';
import {
  BRUTE_FORCE,
  MASS_REVEAL,
  ROTATION_FAILURE,
} from '../src/incidents/detectors/audit-log-detectors';
import { DetectorRunner } from '../src/incidents/detectors/detector-runner';
import type { Rotator, RotationContext } from '../src/rotation/rotators/rotator';
import { RotatorRegistry } from '../src/rotation/rotators/rotator-registry';
import { openDirect } from './helpers/audit-db';
import { serviceWithGrants } from './helpers/principals';
import { bearerFor, scratchMariadb, startApp, TestApp } from './helpers/test-app';
import { until } from './helpers/rotation-checks';

const ENV = {
  THROTTLE_LIMIT: '100000',
  LOGIN_THROTTLE_LIMIT: '100000',
  TRUST_PROXY: 'true',
  // The test drives the passes itself, and reads events as soon as they are written.
  DETECTORS_ENABLED: 'false',
  DETECTORS_SETTLE: 'PT0S',
  DETECT_BRUTE_FORCE_ACCOUNT_THRESHOLD: '3',
  DETECT_BRUTE_FORCE_IP_THRESHOLD: '4',
  DETECT_MASS_REVEAL_THRESHOLD: '3',
  DETECT_MASS_REVEAL_SUSPEND: 'true',
  DETECT_ROTATION_FAILURE_THRESHOLD: '2',
  DETECT_AUDIT_TAMPER_INTERVAL: 'PT1H',
  ROTATION_TICK: 'PT1S',
  ROTATION_MAX_ATTEMPTS: '1',
  ROTATION_FAILED_RETRY_AFTER: 'PT1H',
};

/** A rotator whose apply step always fails. */
class FailingRotator implements Rotator {
  readonly kind = 'always-fails';
  readonly settingsClass = class {};
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
    await context.pendingValue();
    throw new Error('target refused the new password (test)');
  }
  test() {
    return Promise.resolve();
  }
  finish() {
    return Promise.resolve();
  }
}

interface IncidentRow {
  id: string;
  type: string;
  dedupe_key: string;
}

/**
 * Issue 12, item 7: each detector opens one incident from real traffic and adds to it, instead of
 * opening another, while its window lasts.
 */
describe('Incident detectors (MariaDB)', () => {
  let database: ScratchDatabase;
  let db: DataSource;
  let sut: TestApp;
  let runner: DetectorRunner;
  let admin: string;

  beforeAll(async () => {
    database = await scratchMariadb();
    sut = await startApp(database, { env: ENV });
    sut.app.get(RotatorRegistry).register(new FailingRotator());
    runner = sut.app.get(DetectorRunner);
    db = await openDirect(database);
    admin = await bearerFor(sut, 'admin');
  });

  afterAll(async () => {
    await sut?.close();
    await db?.destroy();
    await database?.drop();
  });

  const incidents = (type: string) =>
    db.query<IncidentRow[]>('SELECT id, type, dedupe_key FROM incidents WHERE type = ?', [type]);

  async function timeline(
    incidentId: string,
  ): Promise<{ kind: string; details: Record<string, unknown> }[]> {
    const rows = await db.query<{ kind: string; details: string }[]>(
      'SELECT kind, details FROM incident_timeline WHERE incident_id = ? ORDER BY seq',
      [incidentId],
    );
    return rows.map((row) => ({
      kind: row.kind,
      details: JSON.parse(row.details) as Record<string, unknown>,
    }));
  }

  async function failLogin(email: string, ip: string): Promise<void> {
    await sut.http
      .post('/api/v1/auth/login')
      .set('x-forwarded-for', ip)
      .send({ email, password: 'wrong-password-1' })
      .expect(401);
  }

  describe('brute force', () => {
    it('should open one incident for an account guessed at, and add to it while the window lasts', async () => {
      const email = `victim-${Date.now()}@example.test`;
      const victim = await sut.app
        .get(UsersService)
        .create({ email, password: 'Tq8!victim-password-ok', role: 'viewer' });
      for (const ip of ['203.0.113.10', '203.0.113.11', '203.0.113.10']) await failLogin(email, ip);

      const [first] = await runner.runLogDetector(BRUTE_FORCE);
      expect(first).toMatchObject({
        opened: true,
        finding: {
          dedupeKey: `brute_force:account:user:${victim.id}`,
          facts: { failures: 3, ips: ['203.0.113.10', '203.0.113.11'] },
        },
      });
      // Nothing new: nothing reported again.
      expect(await runner.runLogDetector(BRUTE_FORCE)).toEqual([]);

      // The fifth failure locks the account (LOGIN_MAX_FAILURES); the attempt after it still counts.
      for (let i = 0; i < 3; i++) await failLogin(email, '203.0.113.12');
      const [again] = await runner.runLogDetector(BRUTE_FORCE);
      expect(again).toMatchObject({
        opened: false,
        incidentId: first.incidentId,
        finding: { facts: { failures: 6 } },
      });
      expect(await incidents('brute_force')).toHaveLength(1);
      const entries = await timeline(first.incidentId);
      expect(entries.filter((e) => e.kind === 'detection')).toHaveLength(2);
      expect(entries[0].details).toMatchObject({ detector: 'brute_force', userId: victim.id });
      expect(JSON.stringify(entries)).not.toContain('wrong-password-1');
    });

    it('should open one incident for an IP trying many unknown accounts', async () => {
      for (let i = 0; i < 4; i++) await failLogin(`nobody-${i}@example.test`, '198.51.100.77');

      const reports = await runner.runLogDetector(BRUTE_FORCE);

      expect(reports.map((r) => r.finding.dedupeKey)).toEqual(['brute_force:ip:198.51.100.77']);
      expect(reports[0].finding.facts.accounts).toHaveLength(4);
    });
  });

  describe('mass reveal', () => {
    const paths = ['mass/a', 'mass/b', 'mass/c', 'mass/d'];
    const ids: string[] = [];
    let thief: { id: string; headers: Record<string, string> };
    let incidentId: string;
    const reveal = (path: string) =>
      sut.http
        .get(`/api/v1/secrets/${path}`)
        .set(thief.headers)
        .set('x-forwarded-for', '192.0.2.50');

    beforeAll(async () => {
      for (const path of paths) {
        const created = await sut.http
          .post('/api/v1/credentials')
          .set('authorization', admin)
          .send({
            path,
            name: path.replace('/', '-'),
            type: 'password',
            secret: { password: `s-${path}` },
          })
          .expect(201);
        ids.push((created.body as { id: string }).id);
      }
      thief = await serviceWithGrants(sut, admin, [
        { pathPattern: 'mass/*', capabilities: ['read', 'reveal'] },
      ]);
    });

    it('should open one unauthorized_access incident, link what was revealed and suspend the principal', async () => {
      for (const path of paths.slice(0, 3)) await reveal(path).expect(200);

      const [report] = await runner.runLogDetector(MASS_REVEAL);

      expect(report).toMatchObject({
        opened: true,
        finding: {
          type: 'unauthorized_access',
          principals: [{ type: 'service_account', id: thief.id }],
          facts: { distinctCredentials: 3, ips: ['192.0.2.50'] },
        },
      });
      incidentId = report.incidentId;
      expect([...report.finding.credentialIds].sort()).toEqual(ids.slice(0, 3).sort());
      // Suspended: its key stops working.
      await reveal('mass/d').expect(401);
      const entries = await timeline(incidentId);
      expect(entries.at(-1)?.details).toMatchObject({
        action: 'suspend',
        type: 'service_account',
        suspended: true,
        apiKeysRevoked: 1,
      });
      expect(JSON.stringify(entries)).not.toContain('s-mass/');
    });

    it('should add to the open incident when the principal goes on within the window', async () => {
      // Someone re-enables it too early, with a new key; it goes on revealing.
      await sut.http
        .patch(`/api/v1/service-accounts/${thief.id}`)
        .set('authorization', admin)
        .send({ status: 'active' })
        .expect(200);
      const key = await sut.http
        .post(`/api/v1/service-accounts/${thief.id}/keys`)
        .set('authorization', admin)
        .send({})
        .expect(201);
      thief.headers = { 'x-api-key': (key.body as { apiKey: string }).apiKey };
      await reveal('mass/d').expect(200);

      const [again] = await runner.runLogDetector(MASS_REVEAL);

      expect(again).toMatchObject({
        opened: false,
        incidentId,
        finding: { facts: { distinctCredentials: 4 } },
      });
      expect(await incidents('unauthorized_access')).toHaveLength(1);
      const linked = await db.query<{ credential_id: string }[]>(
        'SELECT credential_id FROM incident_credentials WHERE incident_id = ?',
        [incidentId],
      );
      expect(linked.map((l) => l.credential_id).sort()).toEqual([...ids].sort());
      await reveal('mass/a').expect(401);
    });
  });

  describe('rotation failure', () => {
    it('should open one incident after N failed rotations of a credential, and add to it after more', async () => {
      const created = await sut.http
        .post('/api/v1/credentials')
        .set('authorization', admin)
        .send({
          path: 'rot/fails',
          name: 'fails',
          type: 'password',
          secret: { password: 'rot-secret-1' },
        })
        .expect(201);
      const id = (created.body as { id: string }).id;
      await sut.http
        .put(`/api/v1/credentials/${id}/rotation`)
        .set('authorization', admin)
        .send({
          enabled: true,
          interval: 'P30D',
          gracePeriod: 'PT1H',
          rotator: { kind: 'always-fails' },
        })
        .expect(200);
      const failOnce = async () => {
        const response = await sut.http
          .post(`/api/v1/credentials/${id}/rotate`)
          .set('authorization', admin)
          .send({})
          .expect(202);
        const runId = (response.body as { runId: string }).runId;
        await until(async () => {
          const run = await sut.http.get(`/api/v1/rotations/${runId}`).set('authorization', admin);
          return (run.body as { status: string }).status === 'failed' ? true : undefined;
        });
      };

      await failOnce();
      expect(await runner.runLogDetector(ROTATION_FAILURE)).toEqual([]);
      await failOnce();
      const [first] = await runner.runLogDetector(ROTATION_FAILURE);
      expect(first).toMatchObject({
        opened: true,
        finding: {
          dedupeKey: `rotation_failure:${id}`,
          credentialIds: [id],
          facts: { failures: 2 },
        },
      });
      await failOnce();
      const [again] = await runner.runLogDetector(ROTATION_FAILURE);
      expect(again).toMatchObject({ opened: false, incidentId: first.incidentId });
      expect(await incidents('rotation_failure')).toHaveLength(1);
      const entries = await timeline(first.incidentId);
      expect(JSON.stringify(entries)).not.toContain('target refused');
    });
  });

  describe('audit tamper (last: it breaks the chain)', () => {
    it('should find nothing in an intact chain, then open one incident with the first bad seq', async () => {
      const hour = 3_600_000;
      const start = Date.now() + hour;
      expect(await runner.verifyChain(new Date(start))).toEqual([]);
      // Within the interval: not run again.
      expect(await runner.verifyChain(new Date(start + 1000))).toEqual([]);

      await db.query('DROP TRIGGER audit_events_no_update');
      const [target] = await db.query<{ seq: string }[]>(
        'SELECT seq FROM audit_events ORDER BY seq DESC LIMIT 1 OFFSET 5',
      );
      await db.query("UPDATE audit_events SET outcome = 'denied' WHERE seq = ?", [target.seq]);

      const [report] = await runner.verifyChain(new Date(start + 2 * hour));
      expect(report).toMatchObject({
        opened: true,
        finding: { type: 'audit_tamper', facts: { firstBadSeq: String(target.seq) } },
      });
      const [again] = await runner.verifyChain(new Date(start + 4 * hour));
      expect(again).toMatchObject({ opened: false, incidentId: report.incidentId });
      expect(await incidents('audit_tamper')).toHaveLength(1);
    });
  });
});
