import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { ScratchDatabase } from '../../../src/database/cli/scratch-database';
import { openDirect } from '../../helpers/audit-db';
import { bootstrapAdmin, expectCall, Headers, until } from '../../helpers/rotation-checks';
import {
  ensureBuilt,
  freePort,
  spawnApp,
  SpawnedApp,
  waitForHttp,
} from '../../helpers/spawned-app';
import { randomMasterKey, scratchMariadb } from '../../helpers/test-app';
import { Answer, checkInvariants } from './invariants';
import { TcpRelay } from './tcp-relay';

/** What a request of the load may take at most; a paused database makes requests hang. */
const REQUEST_TIMEOUT_MS = 30_000;

/** The environment every instance of a fault test gets (plus its own data directory). */
export const FAULT_ENV = {
  NODE_ENV: 'test',
  LOG_LEVEL: 'warn',
  THROTTLE_LIMIT: '1000000',
  REVEAL_RATE_LIMIT: '1000000',
  ROTATION_TICK: 'PT1S',
  ROTATION_CLAIM_TTL: 'PT3S',
  // A few seconds of outage retry a run's step rather than fail the run (the default three
  // attempts a second apart could all fall inside a two-second cut).
  ROTATION_RETRY_BACKOFF: 'PT1S',
  ROTATION_MAX_ATTEMPTS: '10',
  ROTATION_SWEEP_INTERVAL: 'PT5S',
} as const;

/**
 * Instances of the built app (real processes) on one scratch MariaDB database, each reaching it
 * through a TCP relay the test can cut, pause and restore, with a direct connection beside it
 * for looking; and a log of every answer the clients received, for the invariant checker.
 */
export class FaultCluster {
  readonly answers: Answer[] = [];
  readonly apps: SpawnedApp[] = [];
  admin: Headers = {};
  private readonly dataDirs: string[] = [];
  private readonly loads: Load[] = [];
  private readonly extraRelays: TcpRelay[] = [];
  private readonly env: Record<string, string>;

  private constructor(
    readonly database: ScratchDatabase,
    /** Between the instances and the database; none on a Galera cluster (test/galera). */
    private readonly ownRelay: TcpRelay | undefined,
    readonly db: DataSource,
    readonly masterKey: string,
    extraEnv: Record<string, string>,
  ) {
    this.env = {
      ...FAULT_ENV,
      DATABASE_URL: ownRelay ? ownRelay.rewrite(database.url!) : database.url!,
      CUSTOS_MASTER_KEY: masterKey,
      JWT_SECRET: randomBytes(48).toString('base64'),
      ...extraEnv,
    };
  }

  /** A new database, a relay in front of it, and `instances` apps through the relay. */
  static async start(
    instances: number,
    extraEnv: Record<string, string> = {},
  ): Promise<FaultCluster> {
    ensureBuilt();
    const database = await scratchMariadb();
    const relay = await TcpRelay.start();
    const db = await openDirect(database);
    const cluster = new FaultCluster(database, relay, db, randomMasterKey(), extraEnv);
    // One after the other: the first migrates and creates the bootstrap admin.
    const first = await cluster.spawn();
    cluster.admin = await bootstrapAdmin(first.baseUrl, cluster.dataDirs[0]);
    for (let i = 1; i < instances; i++) await cluster.spawn();
    return cluster;
  }

  /**
   * Instances on a database of the caller's (a Galera cluster), no relay, one per URL in
   * `urls` (each its own DATABASE_URL, e.g. the same nodes in another order).
   */
  static async startOn(
    database: ScratchDatabase,
    urls: string[],
    extraEnv: Record<string, string> = {},
  ): Promise<FaultCluster> {
    ensureBuilt();
    const db = await openDirect(database);
    const cluster = new FaultCluster(database, undefined, db, randomMasterKey(), extraEnv);
    const first = await cluster.spawn({ DATABASE_URL: urls[0] });
    cluster.admin = await bootstrapAdmin(first.baseUrl, cluster.dataDirs[0]);
    for (const url of urls.slice(1)) await cluster.spawn({ DATABASE_URL: url });
    return cluster;
  }

  /** Another instance (or one in place of `replacing`), answering once it is live. */
  async spawn(
    extra: Record<string, string> = {},
    replacing?: SpawnedApp,
    relay: TcpRelay | undefined = this.ownRelay,
  ): Promise<SpawnedApp> {
    const dataDir = mkdtempSync(join(tmpdir(), 'custos-fault-'));
    this.dataDirs.push(dataDir);
    const env = relay ? { ...this.env, DATABASE_URL: relay.rewrite(this.database.url!) } : this.env;
    const app = spawnApp({ ...env, CUSTOS_DATA_DIR: dataDir, ...extra }, await freePort());
    if (replacing) this.apps[this.apps.indexOf(replacing)] = app;
    else this.apps.push(app);
    await waitForHttp(app, '/api/v1/health/live');
    return app;
  }

  /** The relay every instance goes through by default. */
  get relay(): TcpRelay {
    if (!this.ownRelay) throw new Error('this cluster has no relay (started with startOn)');
    return this.ownRelay;
  }

  async close(): Promise<void> {
    // A test that failed half-way leaves its load running: stop it before the apps go.
    await Promise.all(this.loads.splice(0).map((load) => load.stop()));
    await Promise.all(this.apps.map((app) => app.stop('SIGKILL')));
    const relays = this.ownRelay ? [this.ownRelay, ...this.extraRelays] : this.extraRelays;
    await Promise.all(relays.map((relay) => relay.close()));
    await this.db?.destroy();
    await this.database.drop();
    for (const dir of this.dataDirs) rmSync(dir, { recursive: true, force: true });
  }

  /** A relay of its own to the same database, for an instance the test breaks alone. */
  async addRelay(): Promise<TcpRelay> {
    const relay = await TcpRelay.start();
    this.extraRelays.push(relay);
    return relay;
  }

  /** `count` password credentials with a generated rotation policy (not yet due). */
  async credentials(prefix: string, count: number): Promise<string[]> {
    const app = this.apps[0];
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const path = `${prefix}/${i}`;
      const { id } = await expectCall<{ id: string }>(
        201,
        app.baseUrl,
        'POST',
        '/credentials',
        this.admin,
        { path, name: path, type: 'password', secret: { password: `pw-${randomUUID()}` } },
      );
      await expectCall(200, app.baseUrl, 'PUT', `/credentials/${id}/rotation`, this.admin, {
        enabled: true,
        interval: 'P30D',
        gracePeriod: 'PT1H',
        rotator: { kind: 'generated' },
      });
      ids.push(id);
    }
    return ids;
  }

  /** Makes the credentials due now (database clock), so the next ticks rotate them. */
  async makeDue(ids: string[]): Promise<void> {
    await this.db.query(
      'UPDATE credentials SET next_rotation_at = UTC_TIMESTAMP(3) - INTERVAL 1 SECOND WHERE id IN (?)',
      [ids],
    );
  }

  /** Runs of the credentials by status. */
  async runCounts(ids: string[]): Promise<Record<string, number>> {
    const rows = await this.db.query<{ status: string; n: number }[]>(
      'SELECT status, COUNT(*) AS n FROM rotation_runs WHERE credential_id IN (?) GROUP BY status',
      [ids],
    );
    return Object.fromEntries(rows.map((row) => [row.status, Number(row.n)]));
  }

  /**
   * Waits until a tick opened a run of the credentials (a run may finish within milliseconds, so
   * any run counts); with a small ROTATION_BATCH_SIZE the rest of the batch is still to come.
   */
  async runsStarted(ids: string[], ms = 20_000): Promise<void> {
    await until(
      async () => (Object.keys(await this.runCounts(ids)).length > 0 ? true : undefined),
      ms,
      'a rotation run to start',
    );
  }

  /** Waits until every credential has `runs` succeeded runs and none running. */
  async rotationsDone(ids: string[], runs = 1, ms = 60_000): Promise<void> {
    await until(
      async () => {
        const [row] = await this.db.query<{ done: number; open: number }[]>(
          "SELECT SUM(status = 'succeeded') AS done, SUM(status = 'running') AS open " +
            'FROM rotation_runs WHERE credential_id IN (?)',
          [ids],
        );
        return Number(row.done) >= ids.length * runs && Number(row.open) === 0 ? true : undefined;
      },
      ms,
      `${ids.length * runs} rotations to succeed`,
    );
  }

  async readiness(app: SpawnedApp): Promise<number> {
    try {
      const response = await fetch(`${app.baseUrl}/api/v1/health/ready`, {
        signal: AbortSignal.timeout(5_000),
      });
      await response.body?.cancel();
      return response.status;
    } catch {
      return 0;
    }
  }

  /** Waits (without restarting anything) until every instance says it is ready. */
  async allReady(ms = 30_000): Promise<void> {
    await until(
      async () => {
        const statuses = await Promise.all(this.apps.map((app) => this.readiness(app)));
        return statuses.every((status) => status === 200) ? true : undefined;
      },
      ms,
      'readiness 200 on every instance',
    );
  }

  /**
   * One reveal or secret write through `app`, recorded in `answers` with the request id the
   * client chose; never throws (a reset connection is status 0).
   */
  async request(
    app: SpawnedApp,
    kind: Answer['kind'],
    credentialId: string,
    version?: number,
  ): Promise<Answer> {
    const requestId = `fault-${randomUUID()}`;
    const answer: Answer = {
      kind,
      requestId,
      credentialId,
      status: 0,
      sentAt: Date.now(),
      answeredAt: 0,
    };
    const [method, path, body] =
      kind === 'reveal'
        ? ['POST', `/credentials/${credentialId}/reveal`, { reason: 'fault suite', version }]
        : [
            'PUT',
            `/credentials/${credentialId}/secret`,
            { secret: { password: `w-${randomUUID()}` } },
          ];
    try {
      const response = await fetch(`${app.baseUrl}/api/v1${path}`, {
        method,
        headers: { ...this.admin, 'content-type': 'application/json', 'x-request-id': requestId },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      answer.status = response.status;
      answer.retryAfter = response.headers.get('retry-after') ?? undefined;
      const text = await response.text();
      if (response.status !== 200) answer.errorBody = text;
      const parsed = (text ? JSON.parse(text) : {}) as Record<string, unknown>;
      answer.bodyHasSecret = 'secret' in parsed;
      if (kind === 'reveal' && response.status === 200) {
        answer.version = Number(parsed.version);
        answer.state = String(parsed.state);
      }
    } catch {
      answer.status = 0;
    }
    answer.answeredAt = Date.now();
    this.answers.push(answer);
    return answer;
  }

  /**
   * Reveals and secret writes (`writeShare` of them, 1 in 5 by default) of random credentials, through the instances
   * `targets()` names at the time, `lanes` at once, until stopped.
   */
  load(
    ids: string[],
    lanes = 3,
    targets: () => SpawnedApp[] = () => this.apps,
    writeShare = 0.2,
  ): Load {
    let stopping = false;
    const lane = async () => {
      while (!stopping) {
        const apps = targets().filter(
          (app) => app.process.exitCode === null && !app.process.signalCode,
        );
        if (apps.length === 0) {
          await new Promise((resolve) => setTimeout(resolve, 50));
          continue;
        }
        const app = apps[Math.floor(Math.random() * apps.length)];
        const id = ids[Math.floor(Math.random() * ids.length)];
        await this.request(app, Math.random() < writeShare ? 'write' : 'reveal', id);
      }
    };
    const running = Promise.all(Array.from({ length: lanes }, lane));
    const load: Load = {
      stop: async () => {
        stopping = true;
        await running;
        const index = this.loads.indexOf(load);
        if (index >= 0) this.loads.splice(index, 1);
      },
    };
    this.loads.push(load);
    return load;
  }

  /** Answers received between two moments (indexes into `answers`). */
  since(mark: number): Answer[] {
    return this.answers.slice(mark);
  }

  invariants(): Promise<string[]> {
    return checkInvariants({
      db: this.db,
      databaseUrl: this.database.url!,
      masterKey: this.masterKey,
      answers: this.answers,
      sweepSlackSeconds: 30,
      instances: this.apps
        .filter((app) => app.process.exitCode === null && !app.process.signalCode)
        .map((app) => app.baseUrl),
    });
  }
}

export interface Load {
  stop(): Promise<void>;
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
