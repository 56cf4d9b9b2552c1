import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import * as mysql from 'mysql2/promise';

export const GALERA_PROVIDER = '/usr/lib/galera/libgalera_smm.so';
const MARIADBD = '/usr/sbin/mariadbd';
const INSTALL_DB = '/usr/bin/mariadb-install-db';

/** Why the Galera tests cannot run here, or undefined when they can. */
export function galeraMissing(): string | undefined {
  for (const file of [GALERA_PROVIDER, MARIADBD, INSTALL_DB]) {
    if (!existsSync(file))
      return `${file} is not installed (Debian packages galera-4, mariadb-server)`;
  }
  if (userInfo().uid !== 0) return 'the cluster is started as root (mariadbd --user=mysql)';
  return undefined;
}

/** SQL, group communication, incremental and full state transfer ports of node `n` (1-based). */
export function nodePorts(n: number): { sql: number; gmcast: number; ist: number; sst: number } {
  return { sql: 3400 + n, gmcast: 4400 + n, ist: 4500 + n, sst: 4600 + n };
}

const NODES = [1, 2, 3] as const;
const GCOMM = `gcomm://${NODES.map((n) => `127.0.0.1:${nodePorts(n).gmcast}`).join(',')}`;

export interface NodeStatus {
  ready: boolean;
  localState: number;
  clusterSize: number;
  clusterStatus: string;
}

/**
 * A three-node MariaDB Galera cluster on this machine, for tests: data directories in a temporary
 * folder owned by `mysql`, node 1 bootstrapped with --wsrep-new-cluster, nodes 2 and 3 joined by
 * rsync state transfer, one after the other. Small and unsafe settings (tiny buffer pool, no
 * flush at commit) keep it quick; they are for tests only.
 */
export class GaleraCluster {
  private readonly processes = new Map<number, ChildProcess>();

  private constructor(private readonly root: string) {}

  /** `root@127.0.0.1`, no password, on node `n`. */
  static url(n: number, database = ''): string {
    return `mysql://root@127.0.0.1:${nodePorts(n).sql}/${database}`;
  }

  /** A DATABASE_URL listing the nodes in the given order. */
  static hostList(order: readonly number[], database: string): string {
    const hosts = order.map((n) => `127.0.0.1:${nodePorts(n).sql}`).join(',');
    return `mysql://root@${hosts}/${database}`;
  }

  static async start(): Promise<GaleraCluster> {
    const root = mkdtempSync(join(tmpdir(), 'custos-galera-'));
    const cluster = new GaleraCluster(root);
    try {
      for (const n of NODES) cluster.writeConfig(n);
      execFileSync('chown', ['-R', 'mysql:mysql', root]);
      execFileSync(
        INSTALL_DB,
        [
          `--defaults-file=${cluster.configFile(1)}`,
          '--user=mysql',
          '--auth-root-authentication-method=normal',
          '--skip-test-db',
        ],
        { stdio: 'pipe' },
      );
      cluster.spawnNode(1, ['--wsrep-new-cluster']);
      await cluster.waitFor(1, (s) => s.ready && s.localState === 4);
      for (const n of [2, 3]) {
        cluster.spawnNode(n);
        await cluster.waitFor(n, (s) => s.ready && s.localState === 4);
      }
      await cluster.waitForSize(3);
      return cluster;
    } catch (error) {
      await cluster.stop();
      throw error;
    }
  }

  /** SIGKILL node `n`, as a crash or a pulled plug would. */
  async kill(n: number): Promise<void> {
    const child = this.processes.get(n);
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    this.processes.delete(n);
  }

  /**
   * Restarts a killed node at the position InnoDB recovered (what galera_recovery does for
   * systemd), so that it re-joins by incremental state transfer from a peer's gcache.
   */
  async restart(n: number): Promise<void> {
    const position = this.recoveredPosition(n);
    this.spawnNode(n, position ? [`--wsrep-start-position=${position}`] : []);
    await this.waitFor(n, (s) => s.ready && s.localState === 4);
  }

  /** Waits until every running node reports the given cluster size in a primary component. */
  async waitForSize(size: number, timeoutMs = 60_000): Promise<void> {
    for (const n of this.processes.keys()) {
      await this.waitFor(
        n,
        (s) => s.clusterSize === size && s.clusterStatus === 'Primary',
        timeoutMs,
      );
    }
  }

  async status(n: number): Promise<NodeStatus> {
    const connection = await mysql.createConnection({
      uri: GaleraCluster.url(n),
      connectTimeout: 2000,
    });
    try {
      const [rows] = await connection.query<mysql.RowDataPacket[]>(
        "SHOW GLOBAL STATUS LIKE 'wsrep_%'",
      );
      const value = (name: string) =>
        String(rows.find((row) => row.Variable_name === name)?.Value ?? '');
      return {
        ready: value('wsrep_ready') === 'ON',
        localState: Number(value('wsrep_local_state')),
        clusterSize: Number(value('wsrep_cluster_size')),
        clusterStatus: value('wsrep_cluster_status'),
      };
    } finally {
      await connection.end();
    }
  }

  /** Whether the node's process runs (it may still be joining). */
  running(n: number): boolean {
    return this.processes.get(n)?.exitCode === null;
  }

  /** Stops every node and removes the data directories. */
  async stop(): Promise<void> {
    await Promise.all([...this.processes.keys()].map((n) => this.kill(n)));
    this.processes.clear();
    rmSync(this.root, { recursive: true, force: true });
  }

  /** The node's error log, for a failure message. */
  log(n: number): string {
    const file = join(this.nodeDir(n), 'error.log');
    return existsSync(file) ? readFileSync(file, 'utf8') : '';
  }

  private async waitFor(
    n: number,
    ok: (status: NodeStatus) => boolean,
    timeoutMs = 60_000,
  ): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    while (Date.now() < deadline) {
      const child = this.processes.get(n);
      if (!child || child.exitCode !== null) {
        throw new Error(`galera node ${n} exited:\n${this.log(n).slice(-4000)}`);
      }
      try {
        last = await this.status(n);
        if (ok(last as NodeStatus)) return;
      } catch (error) {
        last = (error as Error).message;
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error(
      `galera node ${n} not there within ${timeoutMs} ms (last: ${JSON.stringify(last)}):\n` +
        this.log(n).slice(-4000),
    );
  }

  private recoveredPosition(n: number): string | undefined {
    const log = join(this.nodeDir(n), 'recover.log');
    rmSync(log, { force: true });
    execFileSync(
      MARIADBD,
      [
        `--defaults-file=${this.configFile(n)}`,
        '--user=mysql',
        '--wsrep-recover',
        `--log-error=${log}`,
      ],
      { stdio: 'pipe' },
    );
    return /Recovered position: (\S+:-?\d+)/.exec(readFileSync(log, 'utf8'))?.[1];
  }

  private spawnNode(n: number, args: string[] = []): void {
    const child = spawn(
      MARIADBD,
      [`--defaults-file=${this.configFile(n)}`, '--user=mysql', ...args],
      {
        stdio: 'ignore',
      },
    );
    this.processes.set(n, child);
  }

  private nodeDir(n: number): string {
    return join(this.root, `node${n}`);
  }

  private configFile(n: number): string {
    return join(this.nodeDir(n), 'my.cnf');
  }

  private writeConfig(n: number): void {
    const dir = this.nodeDir(n);
    const ports = nodePorts(n);
    mkdirSync(join(dir, 'data'), { recursive: true });
    const providerOptions = [
      `gmcast.listen_addr=tcp://127.0.0.1:${ports.gmcast}`,
      `ist.recv_addr=127.0.0.1:${ports.ist}`,
      'gcache.size=64M',
      // A killed node is declared gone after ~3 s instead of the default ~5-15 s.
      'evs.suspect_timeout=PT3S',
      'evs.inactive_timeout=PT5S',
      'evs.install_timeout=PT5S',
    ].join(';');
    writeFileSync(
      join(dir, 'my.cnf'),
      [
        '[mariadbd]',
        `datadir=${join(dir, 'data')}`,
        `socket=${join(dir, 'mariadbd.sock')}`,
        `pid-file=${join(dir, 'mariadbd.pid')}`,
        `log-error=${join(dir, 'error.log')}`,
        `port=${ports.sql}`,
        'bind-address=127.0.0.1',
        'skip-name-resolve',
        'innodb_buffer_pool_size=32M',
        'innodb_log_file_size=16M',
        'innodb_flush_log_at_trx_commit=0',
        'max_connections=300',
        'binlog_format=ROW',
        'default_storage_engine=InnoDB',
        'innodb_autoinc_lock_mode=2',
        'wsrep_on=ON',
        `wsrep_provider=${GALERA_PROVIDER}`,
        'wsrep_cluster_name=custos-test',
        `wsrep_cluster_address=${GCOMM}`,
        `wsrep_node_name=node${n}`,
        'wsrep_node_address=127.0.0.1',
        `wsrep_node_incoming_address=127.0.0.1:${ports.sql}`,
        `wsrep_provider_options="${providerOptions}"`,
        'wsrep_sst_method=rsync',
        `wsrep_sst_receive_address=127.0.0.1:${ports.sst}`,
        '',
      ].join('\n'),
    );
  }
}
