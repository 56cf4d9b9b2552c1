import { Injectable } from '@nestjs/common';
import { TransactionRunner } from '../../database/transaction-runner';
import { openActionsOf } from '../containment/open-actions';
import { IncidentDetailDto } from '../dto/incident-detail.dto';
import { TimelineEntryDto } from '../dto/incident-workflow.dto';
import type { TimelineIntegrity } from '../timeline-integrity';
import { TimelineReader } from '../timeline-reader';
import { AuditLaneHead, readAuditHeads } from './audit-heads.query';
import { BlastRadiusService } from './blast-radius.service';
import type { BlastRadius } from './blast-radius.types';
import { readIncidentScope } from './incident-scope.reader';

export interface IncidentExport {
  exportedAt: string;
  /** As GET /incidents/:id and its timeline answer them. */
  incident: IncidentDetailDto;
  timeline: TimelineEntryDto[];
  /** The timeline checked against the audit chain, as GET /incidents/:id/timeline reports it. */
  timelineIntegrity: TimelineIntegrity;
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
    private readonly timelines: TimelineReader,
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
      const timeline = await this.timelines.read(manager, incidentId, { after: 0 });
      return {
        exportedAt: blastRadius.until,
        incident: IncidentDetailDto.fromDetail(incident, await openActionsOf(manager, incidentId)),
        timeline: timeline.entries.map(({ entry, verified }) =>
          TimelineEntryDto.from(entry, verified),
        ),
        timelineIntegrity: timeline.integrity,
        blastRadius,
        auditHeads,
      };
    }, 'REPEATABLE READ');
  }
}
