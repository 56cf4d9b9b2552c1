import * as mysql2 from 'mysql2';

/**
 * mysql2 as TypeORM's MariaDB driver, with every pooled connection pinned to UTC. TypeORM reads
 * DATETIME values as UTC (timezone "Z"), so the session must write and compute them in UTC too,
 * whatever the server's own time zone is; otherwise the database clock would drift by the offset.
 */
export const mariadbDriver = {
  ...mysql2,
  createPool(options: mysql2.PoolOptions) {
    const pool = mysql2.createPool(options);
    pool.on('connection', (connection) => {
      connection.query("SET time_zone = '+00:00'");
    });
    return pool;
  },
};
