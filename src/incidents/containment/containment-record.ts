import { EntityManager, In } from 'typeorm';
import { RotationRun, RunStatus } from '../../rotation/entities/rotation-run.entity';
import { IncidentTimelineEntry } from '../entities/incident-timeline-entry.entity';

/** What the latest containment of an incident did with one credential, from its timeline. */
export interface CredentialContained {
  credentialId: string;
  containment: 'rotating' | 'must_rotate';
  runId: string | null;
  /** When that entry was written: the value in use then is the exposed one. */
  at: Date;
  /** The run's state now; null when there is no run or it is gone. */
  runStatus: RunStatus | null;
}

/**
 * A run that is still going, or that finished the job, handles the credential; a failed one leaves
 * it exposed, so containing again must start a new emergency run.
 */
const HANDLING: readonly RunStatus[] = ['running', 'waiting', 'succeeded'];

export function isHandled(contained: CredentialContained): boolean {
  return contained.runStatus !== null && HANDLING.includes(contained.runStatus);
}

/**
 * For each credential an incident's containment (or the leak scan, which writes the same entry)
 * rotated or marked must-rotate, the latest such entry with the state of its run now. Read in the
 * caller's transaction.
 */
export async function containmentRecordOf(
  manager: EntityManager,
  incidentId: string,
): Promise<Map<string, CredentialContained>> {
  const entries = await manager.find(IncidentTimelineEntry, {
    select: { details: true, occurredAt: true },
    where: { incidentId, kind: 'action' },
    order: { seq: 'ASC' },
  });
  const latest = new Map<string, CredentialContained>();
  for (const entry of entries) {
    const details = JSON.parse(entry.details) as {
      containment?: string;
      credentialId?: string;
      runId?: string | null;
    };
    if (details.containment !== 'rotating' && details.containment !== 'must_rotate') continue;
    if (!details.credentialId) continue;
    latest.set(details.credentialId, {
      credentialId: details.credentialId,
      containment: details.containment,
      runId: details.runId ?? null,
      at: entry.occurredAt,
      runStatus: null,
    });
  }
  const runIds = [...latest.values()].flatMap((c) => (c.runId ? [c.runId] : []));
  if (runIds.length === 0) return latest;
  const runs = await manager.find(RotationRun, {
    select: { id: true, status: true },
    where: { id: In(runIds) },
  });
  const statusOf = new Map(runs.map((run) => [run.id, run.status]));
  for (const contained of latest.values()) {
    contained.runStatus = contained.runId ? (statusOf.get(contained.runId) ?? null) : null;
  }
  return latest;
}
