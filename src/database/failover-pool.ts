import { Logger } from '@nestjs/common';
import * as mysql2 from 'mysql2';
import { DatabaseNode, nodeName } from '../config/database-url';
import type { WriteMode } from '../config/database.config';
import { nodeOrder } from './node-choice';
import { NodeHealth, NodeProbe } from './node-health';

export interface FailoverPoolOptions {
  nodes: DatabaseNode[];
  mode: WriteMode;
  /** The options of one node's pool (host and port are replaced per node). */
  pool: mysql2.PoolOptions;
  /** Sets up one node's pool (session settings on each new connection). */
  prepare(pool: mysql2.Pool, isGalera: () => boolean): void;
  checkIntervalMs?: number;
}

interface NodeSlot {
  node: DatabaseNode;
  pool: mysql2.Pool;
  probe: NodeProbe;
  health?: NodeHealth;
}

/**
 * A mysql2 pool over a list of nodes, in the shape TypeORM's MySQL driver and DirectSql use
 * (getConnection, query, end). One pool per node; a health check looks at every node each
 * second, and each new connection goes to the node the write mode chooses among the healthy
 * ones (failing over when the preferred node dies or leaves the primary component, and back
 * when it is healthy again). A connection that cannot be opened marks its node down at once
 * and the next node is tried. Connections already checked out stay where they are: a failure
 * under a running transaction is the transaction runner's to retry. mysql2's PoolCluster fails
 * over on connection errors only, with no notion of a Galera node that answers but is not
 * Synced, so it is not used.
 */
export class FailoverPool {
  private readonly slots: NodeSlot[];
  private readonly mode: WriteMode;
  private readonly logger = new Logger('Database');
  private readonly firstLook: Promise<void>;
  private timer?: NodeJS.Timeout;
  private looking?: Promise<void>;
  private turn = 0;
  private writeNode?: number;
  private ended = false;

  constructor(options: FailoverPoolOptions) {
    this.mode = options.mode;
    const credentials = { user: options.pool.user, password: options.pool.password };
    const timeoutMs = Math.min(options.pool.connectTimeout ?? 2000, 2000);
    this.slots = options.nodes.map((node) => {
      const pool = mysql2.createPool({ ...options.pool, host: node.host, port: node.port });
      const slot: NodeSlot = { node, pool, probe: new NodeProbe(node, credentials, timeoutMs) };
      options.prepare(pool, () => slot.health?.galera === true);
      return slot;
    });
    this.firstLook = this.lookAll().then(() => this.logTopology());
    const interval = options.checkIntervalMs ?? 1000;
    this.timer = setInterval(() => void this.lookAll(), interval);
    this.timer.unref();
  }

  getConnection(
    callback: (error: NodeJS.ErrnoException | null, connection?: mysql2.PoolConnection) => void,
  ): void {
    void this.firstLook.then(() => {
      const order = nodeOrder(
        this.slots.map((slot) => slot.health?.healthy === true),
        this.mode,
        this.turn++,
      );
      this.tryNodes(order, 0, callback);
    });
  }

  query(
    sql: string,
    values: mysql2.QueryValues,
    callback: (error: Error | null, rows?: unknown) => void,
  ): void {
    this.getConnection((error, connection) => {
      if (error || !connection) return callback(error);
      connection.query(sql, values, (queryError, rows) => {
        connection.release();
        callback(queryError, rows);
      });
    });
  }

  end(callback?: (error?: Error | null) => void): void {
    this.ended = true;
    clearInterval(this.timer);
    for (const slot of this.slots) slot.probe.close();
    Promise.all(
      this.slots.map((slot) => new Promise<void>((resolve) => slot.pool.end(() => resolve()))),
    ).then(
      () => callback?.(null),
      (error: Error) => callback?.(error),
    );
  }

  /** Which node new connections prefer, for logs and tests. */
  preferredNode(): DatabaseNode | undefined {
    return this.writeNode === undefined ? undefined : this.slots[this.writeNode].node;
  }

  private tryNodes(
    order: number[],
    at: number,
    callback: (error: NodeJS.ErrnoException | null, connection?: mysql2.PoolConnection) => void,
  ): void {
    const slot = this.slots[order[at]];
    slot.pool.getConnection((error, connection) => {
      if (!error) return callback(null, connection);
      if (slot.health?.healthy) {
        slot.health = { ...slot.health, healthy: false, reason: error.code ?? error.message };
        this.noteChanges();
        void this.lookAll();
      }
      if (at + 1 < order.length) return this.tryNodes(order, at + 1, callback);
      callback(error);
    });
  }

  private lookAll(): Promise<void> {
    // One round at a time: a node that hangs must not pile up looks.
    this.looking ??= Promise.all(
      this.slots.map(async (slot) => {
        const health = await slot.probe.look();
        // A look that was under way when the pool ended must not keep its connection open.
        if (this.ended) return slot.probe.close();
        if (slot.health && slot.health.healthy !== health.healthy) {
          this.logger.warn(
            `Node ${nodeName(slot.node)} is ${health.healthy ? 'healthy again' : `unhealthy (${health.reason})`}`,
          );
        }
        slot.health = health;
      }),
    )
      .then(() => this.noteChanges())
      .finally(() => (this.looking = undefined));
    return this.looking;
  }

  /** Logs when the node new connections prefer changes (single-node: where writes go). */
  private noteChanges(): void {
    const first = nodeOrder(
      this.slots.map((slot) => slot.health?.healthy === true),
      'single-node',
      0,
    )[0];
    const healthy = this.slots[first].health?.healthy === true;
    const next = healthy ? first : undefined;
    if (next === this.writeNode) return;
    if (this.writeNode !== undefined || next === undefined) {
      const from =
        this.writeNode === undefined ? 'none' : nodeName(this.slots[this.writeNode].node);
      const to = next === undefined ? 'none (no healthy node)' : nodeName(this.slots[next].node);
      this.logger.warn(`Preferred database node changed from ${from} to ${to}`);
    }
    this.writeNode = next;
  }

  private logTopology(): void {
    const galera = this.slots.find((slot) => slot.health?.galera)?.health;
    const nodes = this.slots
      .map((slot) => {
        const health = slot.health;
        const state = health?.galera ? health.state : health?.healthy ? 'up' : health?.reason;
        return `${nodeName(slot.node)} (${state})`;
      })
      .join(', ');
    const kind = galera
      ? `Galera cluster of ${galera.clusterSize} node(s), ${galera.clusterStatus}`
      : 'not Galera (wsrep_on=OFF): plain failover in list order';
    const writes =
      this.mode === 'single-node'
        ? `this instance writes to ${this.writeNode === undefined ? 'none yet' : nodeName(this.slots[this.writeNode].node)}`
        : 'this instance spreads connections over the healthy nodes';
    this.logger.log(`Database: ${kind}; nodes ${nodes}; ${writes} (DB_WRITE_MODE=${this.mode})`);
  }
}
