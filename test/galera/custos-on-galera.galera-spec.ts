import { randomUUID } from 'node:crypto';
import { createScratchMariadb, ScratchDatabase } from '../../src/database/cli/scratch-database';
import { ANY_NODE_SYNC_WAIT } from '../../src/database/mariadb-driver';
import { FaultCluster, sleep } from '../faults/helpers/fault-cluster';
import { Answer } from '../faults/helpers/invariants';
import { call, expectCall, until, versionViolations } from '../helpers/rotation-checks';
import * as mysql from 'mysql2/promise';
import { GaleraCluster, galeraMissing } from './cluster';
import { HAPROXY_PORT, haproxyMissing, TestHaproxy } from './haproxy';

/**
 * Two Custos instances (spawned processes) on a real three-node Galera cluster, each listing the
 * nodes in another order, in any-node mode: every connection may land on any node, so
 * concurrent transactions meet at certification, not on one server's row locks. Then a node is
 * killed under load and re-joins. See docs/galera.md.
 */
const missing = galeraMissing();

/**
 * Any node takes any transaction; a hot row written from three nodes at once loses at
 * certification often, so retries go further than the default four.
 */
const GALERA_ENV = { DB_WRITE_MODE: 'any-node', DB_RETRY_ATTEMPTS: '10' };

/** A 5xx is allowed only as 503 with Retry-After (retries exhausted, or the database away). */
function badAnswers(answers: readonly Answer[]): Answer[] {
  return answers.filter(
    (answer) =>
      answer.status === 0 ||
      (answer.status >= 500 && !(answer.status === 503 && answer.retryAfter !== undefined)),
  );
}

if (missing) {
  describe.skip(`Custos on a three-node Galera cluster (skipped: ${missing})`, () => {
    it('needs galera-4', () => undefined);
  });
} else {
  describe('Custos on a three-node Galera cluster (two spawned instances, any-node)', () => {
    let galera: GaleraCluster;
    let database: ScratchDatabase;
    let apps: FaultCluster;
    /** DATABASE_URL of an instance that lists the nodes in this order. */
    const urlFor = (order: number[]) =>
      GaleraCluster.hostList(order, database.url!.split('/').pop()!);

    beforeAll(async () => {
      galera = await GaleraCluster.start();
      database = await createScratchMariadb(GaleraCluster.url(1).replace(/\/$/, ''));
      apps = await FaultCluster.startOn(database, [urlFor([1, 2, 3]), urlFor([2, 3, 1])], {
        ...GALERA_ENV,
      });
    }, 150_000);

    afterAll(async () => {
      await apps?.close();
      await galera?.stop();
    });

    it('should answer 100 concurrent creates split over both instances with no 5xx', async () => {
      const statuses = await Promise.all(
        Array.from({ length: 100 }, async (_, i) => {
          const app = apps.apps[i % 2];
          const path = `creates/${i}-${randomUUID()}`;
          const response = await call(app.baseUrl, 'POST', '/credentials', apps.admin, {
            path,
            name: path,
            type: 'password',
            secret: { password: `pw-${randomUUID()}` },
          });
          return response.status;
        }),
      );
      expect(statuses.filter((status) => status !== 201)).toEqual([]);
    });

    it('should keep one current version and contiguous versions under 40 concurrent secret writes', async () => {
      const [id] = await apps.credentials('writes', 1);
      const answers = await Promise.all(
        Array.from({ length: 40 }, (_, i) => apps.request(apps.apps[i % 2], 'write', id)),
      );
      expect(badAnswers(answers)).toEqual([]);
      const statuses = answers.map((answer) => answer.status);
      expect(statuses.filter((status) => status !== 200)).toEqual([]);
      expect(await versionViolations((sql, params) => apps.db.query(sql, params), [id])).toEqual(
        [],
      );
      const [row] = await apps.db.query<{ versions: number }[]>(
        'SELECT MAX(version) AS versions FROM credential_versions WHERE credential_id = ?',
        [id],
      );
      // The first version and one per acknowledged write (older ones pruned past
      // CREDENTIALS_MAX_VERSIONS): none lost and none twice.
      expect(Number(row.versions)).toBe(statuses.length + 1);
    });

    it("should let an any-node session's UPDATE see another node's commit just before it", async () => {
      // A rotation step moves its runs on with one autocommit compare-and-set UPDATE, often on
      // another node than the step before; if that node had not applied the commit yet, the
      // UPDATE matched nothing and the runs sat claimed until their claims expired.
      const name = database.url!.split('/').pop()!;
      const [writer, follower] = await Promise.all(
        [1, 2].map((n) => mysql.createConnection({ uri: GaleraCluster.url(n, name) })),
      );
      try {
        await follower.query(`SET SESSION wsrep_sync_wait = ${ANY_NODE_SYNC_WAIT}`);
        await writer.query('CREATE TABLE sync_wait_probe (id INT PRIMARY KEY, step INT NOT NULL)');
        await writer.query('INSERT INTO sync_wait_probe VALUES (1, 0)');
        const missed: number[] = [];
        for (let step = 1; step <= 200; step += 2) {
          await writer.query('UPDATE sync_wait_probe SET step = ? WHERE id = 1', [step]);
          const [moved] = await follower.query<mysql.ResultSetHeader>(
            'UPDATE sync_wait_probe SET step = ? WHERE id = 1 AND step = ?',
            [step + 1, step],
          );
          if (moved.affectedRows !== 1) missed.push(step);
        }
        expect(missed).toEqual([]);
      } finally {
        await writer.query('DROP TABLE IF EXISTS sync_wait_probe');
        await Promise.all([writer.end(), follower.end()]);
      }
    });

    it('should rotate each due credential exactly once across both instances under reveals, and verify', async () => {
      const ids = await apps.credentials('rotate', 12);
      const load = apps.load(ids, 4, () => apps.apps, 0.1);
      await apps.makeDue(ids);
      const verify = await expectCall<{ ok: boolean }>(
        200,
        apps.apps[1].baseUrl,
        'POST',
        '/audit/verify',
        apps.admin,
      );
      await apps.rotationsDone(ids, 1, 60_000);
      await load.stop();
      expect(verify.ok).toBe(true);
      expect(await apps.runCounts(ids)).toEqual({ succeeded: ids.length });
      expect(badAnswers(apps.answers)).toEqual([]);
    });

    it('should lose no acknowledged write when a node is SIGKILLed under load, fail over, and re-join', async () => {
      const ids = await apps.credentials('kill', 8);
      const mark = apps.answers.length;
      const load = apps.load(ids, 6, () => apps.apps, 0.3);
      await sleep(1_500);
      await galera.kill(2);
      await galera.waitForSize(2);
      // Both instances keep taking writes through the two nodes left, by themselves.
      for (const app of apps.apps) {
        await until(
          async () =>
            (await apps.request(app, 'write', ids[0])).status === 200 ? true : undefined,
          20_000,
          `a write through ${app.baseUrl} after the kill`,
        );
      }
      // The instance that preferred node 2 said where it went.
      expect(apps.apps[1].output()).toContain(
        'Preferred database node changed from 127.0.0.1:3402 to 127.0.0.1:3403',
      );
      await galera.restart(2);
      await galera.waitForSize(3);
      // By incremental state transfer from a peer's gcache, not a full copy.
      expect(galera.log(2)).toMatch(/IST received/);
      // And went back once node 2 was Synced again.
      const back = 'Preferred database node changed from 127.0.0.1:3403 to 127.0.0.1:3402';
      await until(
        () => Promise.resolve(apps.apps[1].output().includes(back) ? true : undefined),
        10_000,
        'the instance to prefer node 2 again',
      );
      await sleep(1_000);
      await load.stop();

      const during = apps.since(mark);
      expect(badAnswers(during)).toEqual([]);
      expect(during.filter((answer) => answer.status === 200).length).toBeGreaterThan(20);
      expect(await apps.invariants()).toEqual([]);
    });

    it('should resume an interrupted rotation on a restarted instance', async () => {
      const [id] = await apps.credentials('crash', 1);
      const doomed = await apps.spawn({
        DATABASE_URL: urlFor([3, 1, 2]),
        ...GALERA_ENV,
        CUSTOS_FAILPOINTS: 'rotation.after-apply',
      });
      // The failpoint kills the process after the apply step committed, before it answers.
      await call(doomed.baseUrl, 'POST', `/credentials/${id}/rotate`, apps.admin, {}).catch(
        () => undefined,
      );
      await doomed.exited;
      expect(doomed.process.signalCode).toBe('SIGKILL');
      const [run] = await apps.db.query<{ status: string; step: string }[]>(
        'SELECT status, step FROM rotation_runs WHERE credential_id = ?',
        [id],
      );
      expect(run).toMatchObject({ status: 'running' });
      await apps.spawn({ DATABASE_URL: urlFor([3, 1, 2]), ...GALERA_ENV }, doomed);
      await apps.rotationsDone([id], 1, 60_000);
      expect(await apps.invariants()).toEqual([]);
    });

    (haproxyMissing() ? it.skip : it)(
      'should keep taking writes through the reference HAProxy when its write node is killed',
      async () => {
        await apps.db.query("CREATE USER IF NOT EXISTS 'haproxy_check'@'127.0.0.1'");
        const proxy = await TestHaproxy.start();
        try {
          const behindProxy = `mysql://root@127.0.0.1:${HAPROXY_PORT}/${database.url!.split('/').pop()!}`;
          const nodeBehind = async () => {
            const connection = await mysql.createConnection({
              uri: behindProxy,
              connectTimeout: 2000,
            });
            try {
              const [rows] = await connection.query<mysql.RowDataPacket[]>(
                'SELECT @@wsrep_node_name AS node',
              );
              return String(rows[0].node);
            } finally {
              await connection.end();
            }
          };
          await until(
            () => nodeBehind().catch(() => undefined),
            20_000,
            'HAProxy to route to a node',
          );
          expect(await nodeBehind()).toBe('node1');
          const proxied = await apps.spawn({ DATABASE_URL: behindProxy });
          const [id] = await apps.credentials('haproxy', 1);
          const mark = apps.answers.length;
          expect((await apps.request(proxied, 'write', id)).status).toBe(200);

          await galera.kill(1);
          await until(
            async () =>
              (await apps.request(proxied, 'write', id)).status === 200 ? true : undefined,
            20_000,
            'a write through HAProxy after its write node died',
          );
          expect(await nodeBehind()).toBe('node2');
          expect(badAnswers(apps.since(mark))).toEqual([]);
          await galera.restart(1);
          await galera.waitForSize(3);
        } finally {
          await proxy.stop();
        }
      },
    );
  });
}
