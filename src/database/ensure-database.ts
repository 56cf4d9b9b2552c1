import { Logger } from '@nestjs/common';
import * as mysql from 'mysql2/promise';

/**
 * Creates the MariaDB database named in the URL when it does not exist yet, so that a new
 * deployment needs only a server and a URL. Without the CREATE privilege this logs and leaves
 * the error to the real connection, which names the database.
 */
export async function ensureMariadbDatabase(url: string): Promise<void> {
  const parsed = new URL(url);
  const name = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  parsed.pathname = '/';
  let connection: mysql.Connection | undefined;
  try {
    connection = await mysql.createConnection(parsed.toString());
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
