/** One MariaDB server of a DATABASE_URL. */
export interface DatabaseNode {
  host: string;
  port: number;
}

export interface ParsedDatabaseUrl {
  user?: string;
  password?: string;
  database: string;
  /** In the order the URL lists them: the first is the preferred one. */
  nodes: DatabaseNode[];
}

const DEFAULT_PORT = 3306;

/**
 * Reads `mysql://user:pw@h1:3306,h2:3306,h3/custos` (or `mariadb://`), the host-list form
 * MySQL and MariaDB clients use for failover. WHATWG URL parsing rejects a host list, so this
 * splits the authority itself; user and password are percent-decoded as in any URL. Query
 * parameters are ignored, as TypeORM ignores them for MariaDB.
 */
export function parseDatabaseUrl(url: string): ParsedDatabaseUrl {
  const match =
    /^(?:mysql|mariadb):\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/@?#]+)\/([^/?#]+)(?:\?.*)?$/.exec(url);
  if (!match) {
    throw new Error('must look like mysql://user:password@host:3306[,host2:3306…]/database');
  }
  const [, user, password, hostList, database] = match;
  const nodes = hostList.split(',').map(parseNode);
  const seen = new Set(nodes.map((node) => `${node.host}:${node.port}`));
  if (seen.size !== nodes.length) throw new Error('lists the same host twice');
  return {
    user: user === undefined || user === '' ? undefined : decodeURIComponent(user),
    password: password === undefined ? undefined : decodeURIComponent(password),
    database: decodeURIComponent(database),
    nodes,
  };
}

function parseNode(text: string): DatabaseNode {
  // An IPv6 literal keeps its brackets in a URL: [::1]:3306.
  const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(?::(\d{1,5}))?$/.exec(text);
  const port = match?.[2] === undefined ? DEFAULT_PORT : Number(match[2]);
  if (!match || port < 1 || port > 65535) {
    throw new Error(`has a host that is not host[:port]: "${text}"`);
  }
  return { host: match[1].replace(/^\[(.*)\]$/, '$1'), port };
}

/** host:port as people write it, for logs. */
export function nodeName(node: DatabaseNode): string {
  return node.host.includes(':') ? `[${node.host}]:${node.port}` : `${node.host}:${node.port}`;
}
