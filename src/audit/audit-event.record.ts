import { ChainedEvent } from './chain/audit-chain';

export interface StoredAuditEvent extends ChainedEvent {
  seq: string;
  prevHash: string | null;
  hash: string;
}

/** The public form of an event: the API's items, the export's lines and the sinks' lines. */
export interface AuditEventRecord {
  seq: string;
  occurredAt: string;
  actor: { type: string; id: string | null; display: string | null };
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  action: string;
  resource: { type: string | null; id: string | null };
  outcome: string;
  httpStatus: number | null;
  details: Record<string, unknown>;
  chain: { lane: number; laneSeq: string; keyId: string; prevHash: string | null; hash: string };
}

export function toEventRecord(event: StoredAuditEvent): AuditEventRecord {
  return {
    seq: String(event.seq),
    occurredAt: event.occurredAt.toISOString(),
    actor: { type: event.actorType, id: event.actorId, display: event.actorDisplay },
    ip: event.ip,
    userAgent: event.userAgent,
    requestId: event.requestId,
    action: event.action,
    resource: { type: event.resourceType, id: event.resourceId },
    outcome: event.outcome,
    httpStatus: event.httpStatus,
    details: JSON.parse(event.details) as Record<string, unknown>,
    chain: {
      lane: event.lane,
      laneSeq: String(event.laneSeq),
      keyId: event.keyId,
      prevHash: event.prevHash,
      hash: event.hash,
    },
  };
}
