import { DataSource } from 'typeorm';
import { ScratchDatabase } from '../../src/database/cli/scratch-database';
import { buildDataSourceOptions } from '../../src/database/data-source-options';

/** A direct connection to a test database, for looking at (and tampering with) what the app wrote. */
export async function openDirect(database: ScratchDatabase): Promise<DataSource> {
  const dataSource = new DataSource(buildDataSourceOptions(database.config));
  await dataSource.initialize();
  return dataSource;
}

export interface EventRow {
  seq: string;
  lane: number;
  lane_seq: string;
  action: string;
  outcome: string;
  http_status: number | null;
  actor_type: string;
  actor_id: string | null;
  request_id: string | null;
  resource_type: string | null;
  resource_id: string | null;
  details: string;
  hash: string;
  prev_hash: string | null;
}

export function eventsOfRequest(db: DataSource, requestId: string): Promise<EventRow[]> {
  return db.query('SELECT * FROM audit_events WHERE request_id = ? ORDER BY seq', [requestId]);
}
