import { EntityManager } from 'typeorm';

/** The head of one audit lane: the last event verify checks the lane against. */
export interface AuditLaneHead {
  lane: number;
  laneSeq: string;
  seq: string | null;
  hash: string | null;
}

interface Row {
  lane: number | string;
  lastLaneSeq: number | string;
  lastSeq: number | string | null;
  lastHash: string | null;
}

/**
 * Every lane's head, read as the verifier reads it (audit_chain_heads), so an export names the
 * exact chain state it was computed against: whoever holds the export can later check that the
 * events it summed up are still in the chain, unchanged.
 */
export async function readAuditHeads(manager: EntityManager): Promise<AuditLaneHead[]> {
  const rows = await manager.query<Row[]>(
    'SELECT lane, last_lane_seq AS lastLaneSeq, last_seq AS lastSeq, last_hash AS lastHash ' +
      'FROM audit_chain_heads ORDER BY lane',
    [],
  );
  return rows.map((row) => ({
    lane: Number(row.lane),
    laneSeq: String(row.lastLaneSeq),
    seq: row.lastSeq === null ? null : String(row.lastSeq),
    hash: row.lastHash,
  }));
}
