import { DataSource } from 'typeorm';
import { ScratchDatabase } from '../src/database/cli/scratch-database';
import { verifySignature } from '../src/outbound/webhook-signature';
import { createCredential, Headers } from './helpers/credential-fixtures';
import { HttpsReceiver, ReceivedRequest } from './helpers/https-receiver';
import { canLogin, DbLogin, queryAs, targetServer, TestUsers } from './helpers/mariadb-users';
import { serviceWithGrants } from './helpers/principals';
import { until } from './helpers/rotation-checks';
import { SseClient } from './helpers/sse-client';
import { bearerFor, listening, Listening, scratchMariadb, startApp } from './helpers/test-app';

const API = '/api/v1';
const APP_PATH = 'db/story/app';
const GRACE_SECONDS = 8;
/** How long a service waits between two uses of its secret. */
const SERVICE_PAUSE_MS = 50;

interface Service {
  id: string;
  headers: Record<string, string>;
}

/** One use of the secret by the running service: reveal by path, log in, query. */
interface Attempt {
  startedAt: number;
  endedAt: number;
  version?: number;
  username?: string;
  error?: string;
}

interface Revealed {
  version: number;
  username: string;
  secret: { password: string };
}

interface Run {
  id: string;
  status: string;
  trigger: string;
  rotator: string;
  pendingVersion: number | null;
  graceSeconds: number;
}

interface AuditItem {
  action: string;
  actor: { type: string };
  details: Record<string, unknown>;
}

interface SignedBody {
  deliveryId: string;
  subscriptionId: string;
  event: { type: string; resourceId: string; path: string; data: Record<string, unknown> };
}

/**
 * Issue 11's "done when", end to end on one running app with its own schedules (rotation tick,
 * sweep and retirement every second, webhook dispatcher): a scheduled mariadb rotation switches a
 * service's database login from one real MariaDB user to the other while the service keeps using
 * it without a single failure; the old user works through the grace and is locked after it; a
 * subscribed webhook and a listening service hear of it, one that may not read it does not; the
 * adoption report shows which consumer picked up the new value; the audit chain verifies.
 */
describe('A scheduled MariaDB rotation, as its services live it (MariaDB)', () => {
  let database: ScratchDatabase;
  let receiver: HttpsReceiver;
  let app: Listening;
  const users = new TestUsers();
  const clients: SseClient[] = [];
  let loop: ServiceLoop | undefined;

  beforeAll(async () => {
    receiver = await HttpsReceiver.start();
    database = await scratchMariadb();
    const sut = await startApp(database, {
      env: {
        THROTTLE_LIMIT: '100000',
        // The real schedules, short: due rotations, the grace sweep and retirement every second.
        ROTATION_TICK: 'PT1S',
        ROTATION_SWEEP_INTERVAL: 'PT1S',
        // The MariaDB server and the receiver are on this machine: loopback allowed for tests.
        CUSTOS_OUTBOUND_ALLOW_LOOPBACK: 'true',
        CUSTOS_OUTBOUND_CA_FILE: receiver.caFile,
        CUSTOS_OUTBOUND_TIMEOUT_MS: '3000',
        WEBHOOKS_DISPATCH_INTERVAL_MS: '200',
        EVENTS_SEQUENCE_INTERVAL_MS: '50',
        EVENTS_STREAM_POLL_MS: '50',
        EVENTS_STREAM_HEARTBEAT: 'PT1S',
      },
    });
    app = await listening(sut);
  });

  afterAll(async () => {
    await loop?.stop();
    for (const client of clients) client.close();
    await app?.sut.close();
    await database?.drop();
    await receiver?.close();
    await users.drop();
  });

  it('should switch users with no failed login, lock the old one after its grace, tell the listeners and report adoption', async () => {
    const { sut } = app;
    const admin: Headers = { authorization: await bearerFor(sut, 'admin') };

    // 1. Two MariaDB users with the same grants on a tiny table, an admin login that may change
    //    them, and the credentials for both in Custos.
    const schema = await users.createDatabase('story', [
      'CREATE TABLE items (id INT PRIMARY KEY, label VARCHAR(40) NOT NULL)',
      "INSERT INTO items VALUES (1, 'still here')",
    ]);
    const dbAdmin = await users.create('adm', ['CREATE USER ON *.*', 'SELECT ON mysql.user']);
    const userA = await users.create('a', [`SELECT ON \`${schema}\`.items`]);
    const userB = await users.create('b', [`SELECT ON \`${schema}\`.items`]);
    const adminCredential = await createCredential(sut, admin, {
      path: 'db/story/admin',
      username: dbAdmin.user,
      secret: { password: dbAdmin.password },
    });
    const { id } = await createCredential(sut, admin, {
      path: APP_PATH,
      username: userA.user,
      secret: { password: userA.password },
    });

    // 2. A webhook subscription for rotation.*, and two services listening on the event stream:
    //    one whose grant covers the credential, one whose grant does not.
    const subscription = (
      await sut.http
        .post(`${API}/webhooks`)
        .set(admin)
        .send({ url: receiver.url('/custos'), events: ['rotation.*'], description: 'story' })
        .expect(201)
    ).body as { id: string; secret: string };
    const watcher = await serviceWithGrants(
      sut,
      admin.authorization,
      [{ pathPattern: APP_PATH, capabilities: ['read'] }],
      'watcher',
    );
    const stranger = await serviceWithGrants(
      sut,
      admin.authorization,
      [{ pathPattern: 'other/**', capabilities: ['read'] }],
      'stranger',
    );
    const covered = await listen(watcher);
    const uncovered = await listen(stranger);

    // 3. Two consumers read the credential by path, as running services do: `billing` keeps
    //    using it (the loop below), `reports` read it once at start-up.
    const consumerGrant = [{ pathPattern: APP_PATH, capabilities: ['read', 'reveal'] }];
    const billing = await serviceWithGrants(sut, admin.authorization, consumerGrant, 'billing');
    const reports = await serviceWithGrants(sut, admin.authorization, consumerGrant, 'reports');
    const atStartUp = (
      await sut.http.get(`${API}/secrets/${APP_PATH}`).set(reports.headers).expect(200)
    ).body as Revealed;
    expect(atStartUp).toMatchObject({
      version: 1,
      username: userA.user,
      secret: { password: userA.password },
    });
    loop = new ServiceLoop(async () => {
      const response = await sut.http.get(`${API}/secrets/${APP_PATH}`).set(billing.headers);
      if (response.status !== 200) throw new Error(`reveal answered ${response.status}`);
      const revealed = response.body as Revealed;
      const login = { user: revealed.username, password: revealed.secret.password };
      const rows = await queryAs(login, 'SELECT label FROM items', schema);
      if (rows[0]?.label !== 'still here')
        throw new Error(`SELECT answered ${JSON.stringify(rows)}`);
      return revealed;
    });
    await until(
      () => Promise.resolve(loop!.succeeded(1) >= 10 ? true : undefined),
      10_000,
      'the service running on version 1',
    );

    // 4. A mariadb alternating-users policy; the scheduler finds the credential due by itself.
    const policy = await sut.http
      .put(`${API}/credentials/${id}/rotation`)
      .set(admin)
      .send({
        enabled: true,
        interval: 'PT1M',
        gracePeriod: `PT${GRACE_SECONDS}S`,
        rotator: {
          kind: 'mariadb',
          strategy: 'alternating-users',
          adminCredentialId: adminCredential.id,
          host: targetServer().host,
          port: targetServer().port,
          users: [userA.user, userB.user],
        },
      })
      .expect(200);
    expect(policy.body).toMatchObject({ warnings: [] });
    // Due a minute from now: made due at once, and the scheduler's own tick takes it from there.
    await sut.app
      .get(DataSource)
      .query(
        'UPDATE credentials SET next_rotation_at = UTC_TIMESTAMP(3) - INTERVAL 1 SECOND WHERE id = ?',
        [id],
      );

    // 5. The service keeps working through the switch: it moves to version 2 (userB) by itself.
    const switched = await until(
      () => Promise.resolve(loop!.firstOn(2)),
      20_000,
      'the service on version 2',
    );
    // 6. During the grace the old user still logs in with the old password.
    const versionsNow = (
      await sut.http.get(`${API}/credentials/${id}/versions`).set(admin).expect(200)
    ).body as { items: { version: number; state: string; graceUntil: string | null }[] };
    expect(versionsNow.items.find((v) => v.version === 1)).toMatchObject({ state: 'previous' });
    expect(await canLogin(userA)).toBe(true);

    const metadata = await sut.http.get(`${API}/credentials/${id}`).set(admin).expect(200);
    expect(metadata.body).toMatchObject({ username: userB.user, currentVersion: 2 });
    const newLogin: DbLogin = { user: userB.user, password: switched.password };
    expect(newLogin.password).not.toBe(userB.password);
    expect(await canLogin(newLogin)).toBe(true);
    const runs = await sut.http.get(`${API}/credentials/${id}/rotations`).set(admin).expect(200);
    const [run] = (runs.body as { items: Run[] }).items;
    expect(run).toMatchObject({
      status: 'succeeded',
      trigger: 'schedule',
      rotator: 'mariadb',
      pendingVersion: 2,
      graceSeconds: GRACE_SECONDS,
    });

    // After the grace: the sweep revokes version 1 and the retirer locks userA; the service,
    // on userB, goes on.
    await until(
      async () => {
        const revoked = await auditOf(id, 'credential.version.revoked');
        const retired = await auditOf(id, 'rotation.retired');
        return revoked.length > 0 && retired.length > 0 ? true : undefined;
      },
      GRACE_SECONDS * 1000 + 15_000,
      'version 1 revoked and userA retired',
    );
    const lockedAt = Date.now();
    const versionsAfter = (
      await sut.http.get(`${API}/credentials/${id}/versions`).set(admin).expect(200)
    ).body as { items: { version: number; state: string }[] };
    expect(versionsAfter.items.map((v) => [v.version, v.state])).toEqual(
      expect.arrayContaining([
        [1, 'revoked'],
        [2, 'current'],
      ]),
    );
    expect(await users.isLocked(userA.user)).toBe(true);
    expect(await canLogin(userA)).toBe(false);
    expect(await canLogin(newLogin)).toBe(true);
    expect(await auditOf(id, 'credential.version.revoked')).toEqual([
      expect.objectContaining({
        actor: expect.objectContaining({ type: 'system' }),
        details: expect.objectContaining({ version: 1 }),
      }),
    ]);
    expect(await auditOf(id, 'rotation.retired')).toEqual([
      expect.objectContaining({
        actor: expect.objectContaining({ type: 'system' }),
        details: expect.objectContaining({ version: 1, account: userA.user, rotator: 'mariadb' }),
      }),
    ]);
    await until(
      () => Promise.resolve(loop!.startedAfter(lockedAt) >= 5 ? true : undefined),
      10_000,
      'the service running after the lock',
    );
    const attempts = await loop.stop();

    // Not one failure: every use of the secret revealed it, logged in and read the table.
    const failures = attempts.filter((a) => a.error !== undefined);
    expect(failures).toEqual([]);
    const onVersion = (v: number) => attempts.filter((a) => a.version === v);
    expect(onVersion(1).length).toBeGreaterThanOrEqual(10);
    expect(onVersion(2).length).toBeGreaterThanOrEqual(20);
    expect(onVersion(1).every((a) => a.username === userA.user)).toBe(true);
    expect(onVersion(2).every((a) => a.username === userB.user)).toBe(true);
    // Version 1 until the switch, version 2 from then on, with no pause across the switch.
    const versions = attempts.map((a) => a.version);
    expect(versions).toEqual([...onVersion(1).map(() => 1), ...onVersion(2).map(() => 2)]);
    const lastOnOld = onVersion(1).at(-1)!;
    const firstOnNew = onVersion(2)[0];
    expect(firstOnNew.startedAt - lastOnOld.endedAt).toBeLessThan(2_000);
    if (process.env.CUSTOS_STORY_REPORT) {
      process.stdout.write(
        `service attempts: ${attempts.length} (${onVersion(1).length} on userA, ` +
          `${onVersion(2).length} on userB, ${failures.length} failed); ` +
          `switch gap ${firstOnNew.startedAt - lastOnOld.endedAt} ms\n`,
      );
    }

    // 7. The webhook got a signed rotation.succeeded; the covered listener heard it, the other
    //    did not; neither carried a password.
    const delivery = await until(
      () => Promise.resolve(signedDelivery(id, 'rotation.succeeded')),
      10_000,
      'rotation.succeeded at the receiver',
    );
    const signature = String(delivery.headers['x-custos-signature']);
    expect(verifySignature(signature, subscription.secret, delivery.body)).toBe(true);
    expect(verifySignature(signature, `${subscription.secret}x`, delivery.body)).toBe(false);
    const body = JSON.parse(delivery.body) as SignedBody;
    expect(body).toMatchObject({
      subscriptionId: subscription.id,
      event: {
        type: 'rotation.succeeded',
        resourceId: id,
        path: APP_PATH,
        data: expect.objectContaining({ runId: run.id, version: 2, previousVersion: 1 }),
      },
    });
    expect(delivery.headers['x-custos-delivery']).toBe(body.deliveryId);
    const heard = await covered.waitForEvent('rotation.succeeded', id);
    expect(JSON.parse(heard.data)).toMatchObject({
      resourceId: id,
      path: APP_PATH,
      data: expect.objectContaining({ runId: run.id, version: 2 }),
    });
    // The uncovered listener is past every event of the rotation once it has sent two
    // heartbeats after the covered one heard the last of them (the revocation).
    await covered.waitForEvent('credential.version.revoked', id);
    const beats = uncovered.comments.filter((c) => c === 'heartbeat').length;
    await until(
      () =>
        Promise.resolve(
          uncovered.comments.filter((c) => c === 'heartbeat').length >= beats + 2
            ? true
            : undefined,
        ),
      10_000,
      'two heartbeats of the uncovered listener',
    );
    expect(uncovered.events).toEqual([]);
    const heardText = [covered.text, uncovered.text, ...receiver.requests.map((r) => r.body)];
    for (const text of heardText) {
      expect(text).not.toContain(switched.password);
      expect(text).not.toContain(userA.password);
    }

    // 8. billing picked up version 2 (its loop did), reports did not: 2 consumers, 1 adopted.
    const adoption = await sut.http
      .get(`${API}/credentials/${id}/rotations/${run.id}/adoption`)
      .set(admin)
      .expect(200);
    expect(adoption.body).toMatchObject({
      runId: run.id,
      version: 2,
      adopted: 1,
      pending: 1,
      percent: 50,
    });
    const consumers = (adoption.body as { consumers: unknown[] }).consumers;
    expect(consumers).toHaveLength(2);
    expect(consumers).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          principalId: billing.id,
          name: 'billing',
          lastRevealedVersion: 2,
          adopted: true,
        }),
        expect.objectContaining({
          principalId: reports.id,
          name: 'reports',
          lastRevealedVersion: 1,
          adopted: false,
        }),
      ]),
    );

    // 9. The audit chain holds everything that happened, intact.
    const verified = await sut.http.post(`${API}/audit/verify`).set(admin).send({}).expect(200);
    expect(verified.body).toMatchObject({ ok: true });

    async function auditOf(resourceId: string, action: string): Promise<AuditItem[]> {
      const response = await sut.http
        .get(`${API}/audit/events?action=${action}&resourceId=${resourceId}`)
        .set(admin)
        .expect(200);
      return (response.body as { items: AuditItem[] }).items;
    }
  });

  async function listen(service: Service): Promise<SseClient> {
    const client = await SseClient.connect(`${app.url}${API}/events`, service.headers);
    clients.push(client);
    expect(client.status).toBe(200);
    await client.waitFor((m) => m.event === 'ready');
    return client;
  }

  /** The receiver's delivery of `type` about `credentialId`, if it came. */
  function signedDelivery(credentialId: string, type: string): ReceivedRequest | undefined {
    return receiver.to('/custos').find((request) => {
      if (request.headers['x-custos-event'] !== type) return false;
      return (JSON.parse(request.body) as SignedBody).event.resourceId === credentialId;
    });
  }
});

/**
 * A service using its database login: every SERVICE_PAUSE_MS it reveals the current value by path
 * and uses it (`use`), recording each attempt, until stopped.
 */
class ServiceLoop {
  readonly attempts: Attempt[] = [];
  /** The value of the first attempt on each version. */
  private readonly passwords = new Map<number, { password: string }>();
  private running = true;
  private readonly done: Promise<void>;

  constructor(private readonly use: () => Promise<Revealed>) {
    this.done = this.run();
  }

  /** Attempts that succeeded on `version`. */
  succeeded(version: number): number {
    return this.attempts.filter((a) => a.version === version).length;
  }

  /** The value of the first attempt that succeeded on `version`, if any yet. */
  firstOn(version: number): { password: string } | undefined {
    return this.passwords.get(version);
  }

  startedAfter(at: number): number {
    return this.attempts.filter((a) => a.startedAt > at).length;
  }

  async stop(): Promise<Attempt[]> {
    this.running = false;
    await this.done;
    return this.attempts;
  }

  private async run(): Promise<void> {
    while (this.running) {
      const startedAt = Date.now();
      try {
        const revealed = await this.use();
        if (!this.passwords.has(revealed.version)) {
          this.passwords.set(revealed.version, { password: revealed.secret.password });
        }
        this.attempts.push({
          startedAt,
          endedAt: Date.now(),
          version: revealed.version,
          username: revealed.username,
        });
      } catch (error) {
        this.attempts.push({ startedAt, endedAt: Date.now(), error: String(error) });
      }
      await new Promise((resolve) => setTimeout(resolve, SERVICE_PAUSE_MS));
    }
  }
}
