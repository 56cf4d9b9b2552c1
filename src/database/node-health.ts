import * as mysql from 'mysql2/promise';
import { DatabaseNode } from '../config/database-url';

/** What one look at a node found. */
export interface NodeHealth {
  healthy: boolean;
  /** Whether the node runs Galera replication (wsrep_on and a provider loaded). */
  galera: boolean;
  /** Galera's view, when it is Galera: wsrep_local_state_comment, cluster size and status. */
  state?: string;
  clusterSize?: number;
  clusterStatus?: string;
  /** Why it is not healthy (an error code or the Galera state), never a credential. */
  reason?: string;
}

const SYNCED = 4;

/**
 * Galera's health of a node: ready for queries (wsrep_ready) and Synced (wsrep_local_state 4,
 * not joining, donor or desynced), in the primary component. A plain MariaDB server is healthy
 * when it answers.
 */
export function healthOf(status: ReadonlyMap<string, string>, wsrepOn: boolean): NodeHealth {
  const galera = wsrepOn && Boolean(status.get('wsrep_provider_name'));
  if (!galera) return { healthy: true, galera: false };
  const state = status.get('wsrep_local_state_comment') ?? status.get('wsrep_local_state');
  const clusterStatus = status.get('wsrep_cluster_status');
  const healthy =
    status.get('wsrep_ready') === 'ON' &&
    Number(status.get('wsrep_local_state')) === SYNCED &&
    clusterStatus === 'Primary';
  return {
    healthy,
    galera: true,
    state,
    clusterSize: Number(status.get('wsrep_cluster_size') ?? 0),
    clusterStatus,
    reason: healthy
      ? undefined
      : `wsrep_ready=${status.get('wsrep_ready')}, state ${state}, ${clusterStatus}`,
  };
}

/** Looks at a node over a connection of its own (SHOW works on a node outside the primary component). */
export class NodeProbe {
  private connection?: mysql.Connection;

  constructor(
    readonly node: DatabaseNode,
    private readonly credentials: { user?: string; password?: string },
    private readonly timeoutMs: number,
  ) {}

  async look(): Promise<NodeHealth> {
    try {
      this.connection ??= await this.connect();
      const [variables] = await this.connection.query<mysql.RowDataPacket[]>({
        sql: "SHOW GLOBAL VARIABLES LIKE 'wsrep_on'",
        timeout: this.timeoutMs,
      });
      const [status] = await this.connection.query<mysql.RowDataPacket[]>({
        sql: "SHOW GLOBAL STATUS LIKE 'wsrep\\_%'",
        timeout: this.timeoutMs,
      });
      const values = new Map(status.map((row) => [String(row.Variable_name), String(row.Value)]));
      return healthOf(values, String(variables[0]?.Value) === 'ON');
    } catch (error) {
      this.close();
      const code = (error as { code?: string }).code;
      return { healthy: false, galera: false, reason: code ?? 'unreachable' };
    }
  }

  close(): void {
    this.connection?.destroy();
    this.connection = undefined;
  }

  private async connect(): Promise<mysql.Connection> {
    const connection = await mysql.createConnection({
      host: this.node.host,
      port: this.node.port,
      user: this.credentials.user,
      password: this.credentials.password,
      connectTimeout: this.timeoutMs,
    });
    // A dead peer must not raise an unhandled 'error' event; the next look reconnects.
    connection.on('error', () => this.close());
    return connection;
  }
}
