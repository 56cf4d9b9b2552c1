import * as mysql2 from 'mysql2';
import { testSessionStatement } from './test-session-variables';

/**
 * mysql2 as TypeORM's MariaDB driver, with every pooled connection pinned to UTC. TypeORM reads
 * DATETIME values as UTC (timezone "Z"), so the session must write and compute them in UTC too,
 * whatever the server's own time zone is; otherwise the database clock would drift by the offset.
 */
export const mariadbDriver = {
  ...mysql2,
  createPool(options: mysql2.PoolOptions) {
    const pool = mysql2.createPool(options);
    const testSession = testSessionStatement();
    pool.on('connection', (connection) => {
      connection.query("SET time_zone = '+00:00'");
      if (testSession) connection.query(testSession);
      // TypeORM calls promise() for every query, and mysql2 answers with a new wrapper each time,
      // resolving a require() on the way. The wrapper holds no state: one per connection will do.
      const promised = connection.promise();
      connection.promise = () => promised;
    });
    return pool;
  },
};
