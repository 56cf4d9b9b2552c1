import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { Interval } from '@nestjs/schedule';
import { AuditRequestContext, SYSTEM } from '../../audit/audit-context';
import { PrincipalSuspension } from '../../auth/principal-suspension';
import { AuditVerificationService } from '../../audit/audit-verification.service';
import { loggableError } from '../../common/errors/loggable-error';
import { detectorsConfig } from '../../config/detectors.config';
import { KeyringService } from '../../crypto/keyring.service';
import { databaseNow } from '../../database/dialect';
import { LeaseService } from '../../database/lease.service';
import { TransactionRunner } from '../../database/transaction-runner';
import { DataSource, EntityManager } from 'typeorm';
import { InjectDataSource } from '@nestjs/typeorm';
import { IncidentRecorder } from '../incident-recorder';
import { TimelineReader } from '../timeline-reader';
import { AUDIT_LOG_DETECTORS, AuditLogDetector } from './audit-log-detectors';
import { auditTamperFinding, TamperedTimeline } from './audit-tamper.rules';
import { DetectorCursorStore } from './detector-cursor.store';
import { DetectorEventsQuery } from './detector-events.query';
import type { DetectorFinding } from './detector-finding';

/** How often the schedule asks whether a pass is due; the interval itself is configured. */
export const DETECTOR_TICK_MS = 1000;
/** New events one detector reads per pass; a backlog drains over the next passes. */
const BATCH = 1000;
/**
 * The lease a detector's passes hold. It is kept and renewed by every pass rather than released,
 * so one instance runs a detector while it lives; another takes over once it lapses.
 */
const PASS_LEASE_MS = 120_000;
/** Incidents whose timelines are checked in one snapshot by the scheduled tamper check. */
const TIMELINE_BATCH = 200;
/** Verification reads the whole chain; its lease outlasts a long walk. */
const VERIFY_LEASE_MS = 30 * 60_000;

/** What one pass reported, for logs and tests. */
export interface DetectorReport {
  finding: DetectorFinding;
  incidentId: string;
  opened: boolean;
}

/**
 * Runs the detectors off the request path: each reads the audit log from its cursor, and what it
 * finds opens an incident or adds to the open one with the same dedupe key. A lease per detector
 * lets one instance at a time run it; the cursor moves in the transaction that records the
 * findings, so a pass either reports its events and moves on, or does neither and is re-run.
 */
@Injectable()
export class DetectorRunner implements OnApplicationShutdown {
  private readonly logger = new Logger(DetectorRunner.name);
  private lastPassAt = 0;
  private running?: Promise<DetectorReport[]>;

  constructor(
    @Inject(detectorsConfig.KEY) private readonly config: ConfigType<typeof detectorsConfig>,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly leases: LeaseService,
    private readonly cursors: DetectorCursorStore,
    private readonly events: DetectorEventsQuery,
    private readonly transactions: TransactionRunner,
    private readonly recorder: IncidentRecorder,
    private readonly verification: AuditVerificationService,
    private readonly keyring: KeyringService,
    private readonly suspension: PrincipalSuspension,
    private readonly timelines: TimelineReader,
  ) {}

  @Interval('incident-detectors', DETECTOR_TICK_MS)
  tick(now = Date.now()): Promise<DetectorReport[]> | null {
    if (!this.config.enabled || now - this.lastPassAt < this.config.tickMs) return null;
    this.lastPassAt = now;
    return this.runAll();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.running;
  }

  /** Every enabled detector once, one pass at a time per instance; never throws. */
  runAll(): Promise<DetectorReport[]> {
    this.running ??= this.passes().finally(() => (this.running = undefined));
    return this.running;
  }

  private async passes(): Promise<DetectorReport[]> {
    if (this.keyring.isSealed()) return [];
    const reports: DetectorReport[] = [];
    for (const detector of AUDIT_LOG_DETECTORS) {
      if (!detector.enabled(this.config)) continue;
      reports.push(...(await this.guarded(detector.name, () => this.runLogDetector(detector))));
    }
    if (this.config.auditTamper.enabled) {
      reports.push(...(await this.guarded('audit_tamper', () => this.verifyChain())));
    }
    return reports;
  }

  private async guarded(
    name: string,
    pass: () => Promise<DetectorReport[]>,
  ): Promise<DetectorReport[]> {
    try {
      return await pass();
    } catch (error) {
      // The cursor did not move: the next pass reads the same events again.
      this.logger.error({ detector: name, err: loggableError(error) }, 'Detector pass failed');
      return [];
    }
  }

  /** One pass of a detector over the audit log, from its cursor. */
  async runLogDetector(detector: AuditLogDetector): Promise<DetectorReport[]> {
    const lease = `incident-detector:${detector.name}`;
    if (!(await this.leases.acquire(lease, PASS_LEASE_MS))) return [];
    const cursor = await this.cursors.read(detector.name);
    const fresh = await this.events.after(
      detector.actions,
      cursor.lastSeq,
      this.config.settleMs,
      BATCH,
      detector.outcome,
    );
    if (fresh.length === 0) return [];
    const upTo = fresh[fresh.length - 1].seq;
    const windowMs = detector.windowSeconds(this.config) * 1000;
    const history = await this.events.history(
      detector.actions,
      new Date(fresh[0].at.getTime() - windowMs),
      upTo,
      detector.subjects(fresh),
      detector.outcome,
    );
    const findings = detector.findings(history, this.config, cursor.lastSeq);
    const now = await databaseNow(this.dataSource);
    const reports = await this.transactions.run(async (manager) => {
      if (!(await this.cursors.advance(manager, detector.name, cursor.lastSeq, upTo, now))) {
        return [];
      }
      const recorded: DetectorReport[] = [];
      for (const finding of findings) {
        const { incident, opened } = await this.recorder.openOrAdd(
          this.incidentInput(finding, detector.windowSeconds(this.config)),
          manager,
        );
        if (finding.detector === 'mass_reveal' && this.config.massReveal.suspend) {
          await this.suspendCaught(manager, finding, incident.id);
        }
        recorded.push({ finding, incidentId: incident.id, opened });
      }
      return recorded;
    }, 'READ COMMITTED');
    return reports;
  }

  /**
   * The scheduled verification of the audit chain, on one instance at a time and at most once per
   * interval whichever instance ran it last (the cursor row keeps the time). `now` is the
   * database clock unless given.
   */
  async verifyChain(now?: Date): Promise<DetectorReport[]> {
    const lease = 'incident-detector:audit_tamper';
    if (!(await this.leases.acquire(lease, VERIFY_LEASE_MS))) return [];
    const cursor = await this.cursors.read('audit_tamper');
    const at = now ?? (await databaseNow(this.dataSource));
    const interval = this.config.auditTamper.intervalMs;
    if (cursor.ranAt && at.getTime() - cursor.ranAt.getTime() < interval) return [];
    const result = await this.verification.verify();
    const finding = auditTamperFinding(result, await this.tamperedTimelines());
    return await this.transactions.run(async (manager) => {
      const reached = result.headSeq ?? cursor.lastSeq;
      if (!(await this.cursors.advance(manager, 'audit_tamper', cursor.lastSeq, reached, at))) {
        return [];
      }
      if (!finding) return [];
      const window = this.config.auditTamper.windowSeconds;
      const { incident, opened } = await this.recorder.openOrAdd(
        this.incidentInput(finding, window),
        manager,
      );
      return [{ finding, incidentId: incident.id, opened }];
    }, 'READ COMMITTED');
  }

  /**
   * Every incident's timeline checked against its audit events, a batch of incidents per
   * snapshot: a row changed, inserted or deleted by hand (its triggers dropped) is invisible to
   * the chain's verify, since the events themselves are intact.
   */
  private async tamperedTimelines(): Promise<TamperedTimeline[]> {
    const tampered: TamperedTimeline[] = [];
    for (let after = ''; ;) {
      const { ids, found } = await this.transactions.run(async (manager) => {
        const batch = await manager.query<{ id: string }[]>(
          `SELECT id FROM incidents WHERE id > ? ORDER BY id LIMIT ${TIMELINE_BATCH}`,
          [after],
        );
        const incidentIds = batch.map((row) => row.id);
        return { ids: incidentIds, found: await this.timelines.checkMany(manager, incidentIds) };
      }, 'REPEATABLE READ');
      tampered.push(
        ...found.map(({ incidentId, integrity }) => ({ incidentId, problems: integrity.problems })),
      );
      if (ids.length < TIMELINE_BATCH) return tampered;
      after = ids[ids.length - 1];
    }
  }

  private incidentInput(finding: DetectorFinding, windowSeconds: number) {
    return {
      type: finding.type,
      severity: finding.severity,
      title: finding.title,
      dedupeKey: finding.dedupeKey,
      windowSeconds,
      credentialIds: finding.credentialIds,
      principals: finding.principals,
      detection: { detector: finding.detector, ...finding.facts },
      actor: SYSTEM,
    };
  }

  /**
   * Cuts off the principal a mass reveal caught, in the transaction that records the finding, and
   * says so in the incident's timeline (held locked by openOrAdd).
   */
  private async suspendCaught(
    manager: EntityManager,
    finding: DetectorFinding,
    incidentId: string,
  ): Promise<void> {
    const context = new AuditRequestContext('incident-detector', null, null);
    context.actor = SYSTEM;
    const reason = `incident ${incidentId}: ${finding.title}`;
    for (const principal of finding.principals) {
      const outcome =
        principal.type === 'user'
          ? await this.suspension.suspendUser(manager, principal.id, reason, context)
          : await this.suspension.suspendServiceAccount(manager, principal.id, reason, context);
      await this.recorder.appendTimeline(manager, incidentId, {
        kind: 'action',
        text: `Detector ${outcome.suspended ? 'suspended' : 'did not suspend'} ${principal.type} ${principal.id}`,
        details: { action: 'suspend', ...outcome },
        actor: SYSTEM,
      });
    }
  }
}
