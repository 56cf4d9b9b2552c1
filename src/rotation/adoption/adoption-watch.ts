import { Inject, Injectable } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, In } from 'typeorm';
import { SYSTEM } from '../../audit/audit-context';
import type { ActorActivity } from '../../audit/audit-activity.query';
import { AuditWriter } from '../../audit/audit-writer';
import type { CredentialType } from '../../common/credential-types';
import { adoptionConfig } from '../../config/adoption.config';
import { VersionStore } from '../../credentials/version-store';
import { databaseNow, Dialect, dialectOf, timestampParam, toDate } from '../../database/dialect';
import { TransactionRunner } from '../../database/transaction-runner';
import { EventOutbox } from '../../events/event-outbox';
import { RotationPolicy } from '../entities/rotation-policy.entity';
import type { EffectivePolicy } from '../policy/effective-policy';
import { RotationPolicyService } from '../policy/rotation-policy.service';
import { AdoptionMetrics } from './adoption-metrics';
import { AdoptionReport, FinishedRotation, fullyAdopted } from './adoption-report';
import { AdoptionTracker } from './adoption-tracker';

/** Rotations looked at per pass at most, those whose grace ends first. */
const MAX_ROTATIONS = 1000;

/** A rotation whose old version is still in its grace. */
interface InGrace extends FinishedRotation {
  path: string;
  type: CredentialType;
  previousVersion: number;
  graceUntil: Date;
}

export interface AdoptionPass {
  /** Rotations whose old version's grace this instance ended because all consumers adopted. */
  graceEnded: number;
  /** Rotations this instance announced as lagging. */
  warned: number;
}

/**
 * Acts on adoption while a rotation's old version is still in its grace: under a policy with
 * `endGraceOnFullAdoption`, ends the grace once every known consumer has the new value (the
 * sweep that follows revokes it); raises `rotation.adoption_lagging` once per run when the
 * grace ends within ROTATION_ADOPTION_LAG_WARN and consumers are still on the old value; and
 * sets the adoption gauges. Runs on every instance: the grace ends by a conditional update
 * (VersionStore.endGrace) and the warning by the insert of its run's row, so each happens once.
 * A rotation's consumers never change once it finished, so they are read once per run and kept
 * while it is in grace; each pass reads only the reveals since.
 */
@Injectable()
export class AdoptionWatch {
  private consumers = new Map<string, ActorActivity[]>();

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly transactions: TransactionRunner,
    private readonly policies: RotationPolicyService,
    private readonly tracker: AdoptionTracker,
    private readonly versions: VersionStore,
    private readonly audit: AuditWriter,
    private readonly events: EventOutbox,
    private readonly metrics: AdoptionMetrics,
    @Inject(adoptionConfig.KEY) private readonly config: ConfigType<typeof adoptionConfig>,
  ) {}

  async watch(): Promise<AdoptionPass> {
    const now = await databaseNow(this.dataSource);
    const rotations = await this.inGrace(now);
    const policies = await this.policiesOf(rotations);
    const kept = new Map<string, ActorActivity[]>();
    const reports: AdoptionReport[] = [];
    const pass: AdoptionPass = { graceEnded: 0, warned: 0 };
    for (const rotation of rotations) {
      const consumers =
        this.consumers.get(rotation.runId) ?? (await this.tracker.consumersOf(rotation));
      kept.set(rotation.runId, consumers);
      const report = await this.tracker.report(rotation, consumers);
      reports.push(report);
      if (policies.get(rotation.credentialId)?.endGraceOnFullAdoption && fullyAdopted(report)) {
        if (await this.endGrace(rotation, report)) pass.graceEnded += 1;
      } else if (
        report.pending > 0 &&
        rotation.graceUntil.getTime() - now.getTime() <= this.config.lagWarnSeconds * 1000 &&
        (await this.warn(rotation, report))
      ) {
        pass.warned += 1;
      }
    }
    // Runs no longer in grace are forgotten.
    this.consumers = kept;
    this.metrics.update(reports);
    return pass;
  }

  /** The latest rotation of each active credential whose previous version is in its grace. */
  private async inGrace(now: Date): Promise<InGrace[]> {
    const dialect: Dialect = dialectOf(this.dataSource);
    const rows = await this.transactions.read((manager) =>
      manager.query<Record<string, unknown>[]>(
        'SELECT c.id AS credentialId, c.path, c.type, r.id AS runId, ' +
          'r.pending_version AS version, r.finished_at AS finishedAt, ' +
          'v.version AS previousVersion, v.grace_until AS graceUntil ' +
          'FROM credential_versions v JOIN credentials c ON c.id = v.credential_id ' +
          // The run that made the current version: a later change by hand has no run, and ends it.
          'JOIN rotation_runs r ON r.credential_id = c.id AND r.pending_version = c.current_version ' +
          "AND r.status = 'succeeded' " +
          "WHERE v.state = 'previous' AND v.grace_until > ? AND c.status = 'active' " +
          `AND r.finished_at IS NOT NULL ORDER BY v.grace_until LIMIT ${MAX_ROTATIONS}`,
        [timestampParam(dialect, now)],
      ),
    );
    return rows.map((row) => ({
      runId: String(row.runId),
      credentialId: String(row.credentialId),
      path: String(row.path),
      type: row.type as CredentialType,
      version: Number(row.version),
      finishedAt: toDate(row.finishedAt as Date | string),
      previousVersion: Number(row.previousVersion),
      graceUntil: toDate(row.graceUntil as Date | string),
    }));
  }

  /** The policy that applies to each credential now (its own, else a pattern's). */
  private async policiesOf(rotations: InGrace[]): Promise<Map<string, EffectivePolicy | null>> {
    const result = new Map<string, EffectivePolicy | null>();
    if (rotations.length === 0) return result;
    await this.transactions.read(async (manager) => {
      const ids = [...new Set(rotations.map((rotation) => rotation.credentialId))];
      const own = await manager.find(RotationPolicy, { where: { credentialId: In(ids) } });
      const patterns = await this.policies.patternPolicies(manager);
      for (const rotation of rotations) {
        const mine = own.find((policy) => policy.credentialId === rotation.credentialId) ?? null;
        result.set(rotation.credentialId, this.policies.effectiveAmong(mine, patterns, rotation));
      }
    });
    return result;
  }

  private endGrace(rotation: InGrace, report: AdoptionReport): Promise<boolean> {
    return this.transactions.run(async (manager) => {
      const ended = await this.versions.endGrace(
        manager,
        rotation.credentialId,
        rotation.previousVersion,
      );
      if (!ended) return false;
      await this.audit.record(
        {
          action: 'rotation.adoption.grace_ended',
          outcome: 'success',
          actor: SYSTEM,
          resourceType: 'credential',
          resourceId: rotation.credentialId,
          details: {
            ...facts(rotation, report),
            graceUntil: ended.graceUntil.toISOString(),
            endedAt: ended.endedAt.toISOString(),
            reason: 'every known consumer has the new version',
          },
        },
        manager,
      );
      return true;
    });
  }

  private warn(rotation: InGrace, report: AdoptionReport): Promise<boolean> {
    return this.transactions.run(async (manager) => {
      if (!(await this.markWarned(manager, rotation))) return false;
      const data = { ...facts(rotation, report), graceUntil: rotation.graceUntil.toISOString() };
      await this.audit.record(
        {
          action: 'rotation.adoption_lagging',
          outcome: 'success',
          actor: SYSTEM,
          resourceType: 'credential',
          resourceId: rotation.credentialId,
          // Which principals lag is for the audit log and the adoption route; the event, which
          // every listener that may read the credential hears, says how many.
          details: {
            ...data,
            pendingConsumers: report.consumers
              .filter((consumer) => !consumer.adopted)
              .map(({ principalType, principalId }) => ({ principalType, principalId })),
          },
        },
        manager,
      );
      await this.events.publish(manager, {
        type: 'rotation.adoption_lagging',
        resourceType: 'credential',
        resourceId: rotation.credentialId,
        path: rotation.path,
        data,
      });
      return true;
    });
  }

  /** Records the run as announced; false when another pass (another instance) did first. */
  private async markWarned(manager: EntityManager, rotation: InGrace): Promise<boolean> {
    const dialect = dialectOf(manager);
    const runner = manager.queryRunner;
    if (!runner) throw new Error('AdoptionWatch needs the EntityManager of a transaction');
    const result = (await runner.query(
      `${dialect === 'mariadb' ? 'INSERT IGNORE' : 'INSERT OR IGNORE'} INTO rotation_adoption_warnings ` +
        '(run_id, credential_id, warned_at) VALUES (?, ?, ?)',
      [rotation.runId, rotation.credentialId, timestampParam(dialect, await databaseNow(manager))],
      true,
    )) as { affected?: number };
    return (result.affected ?? 0) > 0;
  }
}

function facts(rotation: InGrace, report: AdoptionReport): Record<string, unknown> {
  return {
    runId: rotation.runId,
    credentialId: rotation.credentialId,
    path: rotation.path,
    version: rotation.version,
    previousVersion: rotation.previousVersion,
    consumers: report.consumers.length,
    adopted: report.adopted,
    pending: report.pending,
    percent: report.percent,
  };
}
