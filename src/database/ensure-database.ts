import { Logger } from '@nestjs/common';
import * as mysql from 'mysql2/promise';
import { DatabaseNode, parseDatabaseUrl } from '../config/database-url';

/**
 * Creates the MariaDB database named in the URL when it does not exist yet, so that a new
 * deployment needs only a server and a URL. Without the CREATE privilege this logs and leaves
 * the error to the real connection, which names the database. With a list of hosts, the first
 * that answers does it (on Galera, CREATE DATABASE replicates to the others).
 */
export async function ensureMariadbDatabase(url: string): Promise<void> {
  const { user, password, database: name, nodes } = parseDatabaseUrl(url);
  let connection: mysql.Connection | undefined;
  try {
    connection = await connectToFirst(nodes, { user, password });
    await connection.query(
      `CREATE DATABASE IF NOT EXISTS \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
    );
  } catch (error) {
    new Logger('Database').warn(
      `Could not make sure database "${name}" exists: ${(error as { code?: string }).code ?? (error as Error).message}`,
    );
  } finally {
    await connection?.end();
  }
}

async function connectToFirst(
  nodes: DatabaseNode[],
  credentials: { user?: string; password?: string },
): Promise<mysql.Connection> {
  let lastError: unknown;
  for (const node of nodes) {
    try {
      return await mysql.createConnection({ ...credentials, host: node.host, port: node.port });
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}
