import { Logger } from '@nestjs/common';
import * as mysql2 from 'mysql2';
import { DatabaseNode, nodeName } from '../config/database-url';
import { FailoverPool } from './failover-pool';
import type { WriteMode } from '../config/database.config';
import { NodeProbe } from './node-health';
import { testSessionStatement } from './test-session-variables';

/** What buildDataSourceOptions passes through TypeORM's `extra` for a list of nodes. */
export interface ClusterOptions {
  nodes: DatabaseNode[];
  mode: WriteMode;
}

type DriverPoolOptions = mysql2.PoolOptions & { custosCluster?: ClusterOptions };

/**
 * The causality checks of an any-node session: reads (1) and UPDATE/DELETE (2). A step's
 * compare-and-set runs as one autocommit UPDATE, possibly on another node than the step before
 * it; without 2 that node may not have applied the previous commit yet, the UPDATE matches no row
 * and the run is taken for lost, left claimed until its claim expires. An INSERT needs no wait:
 * one that a stale node lets through meets the winner at certification and is retried.
 */
export const ANY_NODE_SYNC_WAIT = 3;

/**
 * mysql2 as TypeORM's MariaDB driver, with every pooled connection pinned to UTC. TypeORM reads
 * DATETIME values as UTC (timezone "Z"), so the session must write and compute them in UTC too,
 * whatever the server's own time zone is; otherwise the database clock would drift by the offset.
 * A DATABASE_URL with several hosts gets a FailoverPool over them instead of one pool.
 */
export const mariadbDriver = {
  ...mysql2,
  createPool(options: DriverPoolOptions): mysql2.Pool | FailoverPool {
    const { custosCluster: cluster, ...poolOptions } = options;
    if (cluster && cluster.nodes.length > 1) {
      return new FailoverPool({
        nodes: cluster.nodes,
        mode: cluster.mode,
        pool: poolOptions,
        // Any-node reads and updates may land on another node than the write before them (this
        // instance's or another's): wait until the node has applied what the cluster committed.
        prepare: (pool, isGalera) => prepare(pool, () => cluster.mode === 'any-node' && isGalera()),
      });
    }
    const pool = mysql2.createPool(poolOptions);
    prepare(pool, () => false);
    void logSingleNode(poolOptions);
    return pool;
  },
};

function prepare(pool: mysql2.Pool, syncWait: () => boolean): void {
  const testSession = testSessionStatement();
  pool.on('connection', (connection) => {
    connection.query("SET time_zone = '+00:00'");
    if (testSession) connection.query(testSession);
    if (syncWait()) connection.query(`SET SESSION wsrep_sync_wait = ${ANY_NODE_SYNC_WAIT}`);
    // TypeORM calls promise() for every query, and mysql2 answers with a new wrapper each time,
    // resolving a require() on the way. The wrapper holds no state: one per connection will do.
    const promised = connection.promise();
    connection.promise = () => promised;
  });
}

/** One node: say at start-up whether it is a Galera node, and of how big a cluster. */
async function logSingleNode(options: mysql2.PoolOptions): Promise<void> {
  const node = { host: options.host ?? 'localhost', port: options.port ?? 3306 };
  const probe = new NodeProbe(node, { user: options.user, password: options.password }, 2000);
  const health = await probe.look();
  probe.close();
  if (!health.galera) return;
  new Logger('Database').log(
    `Database: Galera node ${nodeName(node)} (${health.state}) of a cluster of ${health.clusterSize}, ` +
      `${health.clusterStatus}; a single host has no failover: list the nodes in DATABASE_URL or ` +
      'put a proxy in front (docs/galera.md)',
  );
}
