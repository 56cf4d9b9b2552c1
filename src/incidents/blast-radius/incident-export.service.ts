import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { TransactionRunner } from '../../database/transaction-runner';
import { Incident } from '../entities/incident.entity';
import { IncidentTimelineEntry } from '../entities/incident-timeline-entry.entity';
import { AuditLaneHead, readAuditHeads } from './audit-heads.query';
import { BlastRadiusService } from './blast-radius.service';
import type { BlastRadius } from './blast-radius.types';
import { readIncidentScope } from './incident-scope.reader';

export interface IncidentExport {
  exportedAt: string;
  incident: Record<string, unknown>;
  timeline: Record<string, unknown>[];
  blastRadius: BlastRadius;
  /** The audit chain as it stood when the export was read: every lane's head. */
  auditHeads: AuditLaneHead[];
}

/**
 * The blast radius of an incident, alone or in an export with the incident, its timeline and the
 * audit chain heads. Everything is read in one REPEATABLE READ transaction, so the heads name
 * exactly the chain state the blast radius was computed from.
 */
@Injectable()
export class IncidentExportService {
  constructor(
    private readonly transactions: TransactionRunner,
    private readonly blastRadius: BlastRadiusService,
  ) {}

  radius(incidentId: string, since?: Date): Promise<BlastRadius> {
    return this.transactions.run(async (manager) => {
      const { scope } = await readIncidentScope(manager, incidentId);
      return this.blastRadius.compute(manager, scope, since);
    }, 'REPEATABLE READ');
  }

  export(incidentId: string, since?: Date): Promise<IncidentExport> {
    return this.transactions.run(async (manager) => {
      // Heads first: the snapshot starts here, and every later read sees the same chain.
      const auditHeads = await readAuditHeads(manager);
      const { incident, scope } = await readIncidentScope(manager, incidentId);
      const blastRadius = await this.blastRadius.compute(manager, scope, since);
      return {
        exportedAt: blastRadius.until,
        incident: incidentJson(incident),
        timeline: await timelineJson(manager, incidentId),
        blastRadius,
        auditHeads,
      };
    }, 'REPEATABLE READ');
  }
}

function incidentJson(incident: Incident): Record<string, unknown> {
  // The dedupe slot and row version are bookkeeping, not part of the incident's story.
  return {
    id: incident.id,
    type: incident.type,
    severity: incident.severity,
    status: incident.status,
    title: incident.title,
    description: incident.description,
    findings: incident.findings,
    remediation: incident.remediation,
    affected: incident.affected,
    assigneeId: incident.assigneeId,
    dedupeKey: incident.dedupeKey,
    freeze: incident.freeze,
    createdBy: incident.createdBy,
    detectedAt: incident.detectedAt.toISOString(),
    containedAt: incident.containedAt?.toISOString() ?? null,
    resolvedAt: incident.resolvedAt?.toISOString() ?? null,
    createdAt: incident.createdAt.toISOString(),
    updatedAt: incident.updatedAt.toISOString(),
  };
}

async function timelineJson(
  manager: EntityManager,
  incidentId: string,
): Promise<Record<string, unknown>[]> {
  const entries = await manager.find(IncidentTimelineEntry, {
    where: { incidentId },
    order: { seq: 'ASC' },
  });
  return entries.map((entry) => ({
    seq: entry.seq,
    kind: entry.kind,
    actor: { type: entry.actorType, id: entry.actorId, display: entry.actorDisplay },
    text: entry.text,
    details: JSON.parse(entry.details) as unknown,
    auditSeq: String(entry.auditSeq),
    occurredAt: entry.occurredAt.toISOString(),
  }));
}
