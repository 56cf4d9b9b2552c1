import { Inject, Injectable, Logger } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { AuditRequestContext, SYSTEM } from '../../audit/audit-context';
import type { Principal } from '../../common/auth/principal';
import { DomainError } from '../../common/errors/domain-error';
import { leakScanConfig } from '../../config/leak-scan.config';
import { Credential } from '../../credentials/entities/credential.entity';
import type { LeakHit } from '../../credentials/leak-scan/leak-scanner';
import { rowLock } from '../../database/dialect';
import { TransactionRunner } from '../../database/transaction-runner';
import {
  OPENING_ISOLATION,
  RotationRequests,
} from '../../rotation/engine/rotation-requests.service';
import { RotationScheduler } from '../../rotation/engine/rotation-scheduler';
import { RotationPolicyService } from '../../rotation/policy/rotation-policy.service';
import { IncidentRecorder } from '../incident-recorder';

/** What containment did with one leaked credential. */
export type RotationOutcome = 'rotating' | 'manual' | 'failed';

/**
 * Contains a leaked credential: opens (or adds to) its `credential_leak` incident, one per
 * credential within the window, and emergency-rotates it (grace 0: the leaked value dies at the
 * switch) when an automatic rotator knows how; otherwise a person must rotate it, which the
 * incident's timeline says.
 */
@Injectable()
export class LeakContainment {
  private readonly logger = new Logger(LeakContainment.name);

  constructor(
    private readonly recorder: IncidentRecorder,
    private readonly transactions: TransactionRunner,
    private readonly policies: RotationPolicyService,
    private readonly requests: RotationRequests,
    private readonly scheduler: RotationScheduler,
    @Inject(leakScanConfig.KEY) private readonly config: ConfigType<typeof leakScanConfig>,
  ) {}

  /**
   * `hits` of one credential (its current and in-grace versions). The incident is written before
   * the rotation starts, so a leak is on record whatever becomes of the rotation; the timeline
   * then says what containment did.
   */
  async contain(
    hits: readonly LeakHit[],
    principal: Principal,
    context?: AuditRequestContext,
  ): Promise<RotationOutcome> {
    const { credentialId, path } = hits[0];
    const versions = hits.map((hit) => hit.version);
    const { incident } = await this.recorder.openOrAdd({
      type: 'credential_leak',
      severity: 'high',
      title: `Credential ${path} found in a leak scan`,
      dedupeKey: `credential_leak:${credentialId}`,
      windowSeconds: this.config.incidentWindowSeconds,
      credentialIds: [credentialId],
      detection: {
        detector: 'leak_scan',
        credentialId,
        path,
        versions,
        reportedBy: { type: principal.type, id: principal.id },
        requestId: context?.requestId ?? null,
      },
      actor: context?.actor ?? SYSTEM,
    });
    const rotation = await this.rotate(credentialId, path, principal, context);
    await this.recordRotation(incident.id, credentialId, path, rotation, context);
    this.logger.warn(
      `Leak of ${path} (versions ${versions.join(', ')}): incident ${incident.id}, rotation ${rotation.outcome}`,
    );
    return rotation.outcome;
  }

  /**
   * What became of the rotation, in the incident's timeline. A started emergency rotation is
   * written as the incident's own containment writes it, so that containment counts the
   * credential as handled instead of rotating it a second time (and cutting off the value that
   * replaced the leaked one); a manual or failed one is left for that containment to handle.
   */
  private async recordRotation(
    incidentId: string,
    credentialId: string,
    path: string,
    { outcome, runId }: { outcome: RotationOutcome; runId: string | null },
    context?: AuditRequestContext,
  ): Promise<void> {
    const entries = {
      rotating: {
        text: `emergency rotation of ${path} (grace 0), started by the leak scan`,
        details: { containment: 'rotating', credentialId, path, runId, trigger: 'leak' },
      },
      manual: {
        text: `${path} has no automatic rotator: containing the incident marks it must-rotate`,
        details: { rotation: 'manual', credentialId, path, trigger: 'leak' },
      },
      failed: {
        text: `the emergency rotation of ${path} did not start: containing the incident tries again`,
        details: { rotation: 'failed', credentialId, path, trigger: 'leak' },
      },
    };
    await this.transactions.run(async (manager) => {
      await this.recorder.lock(manager, incidentId);
      await this.recorder.appendTimeline(manager, incidentId, {
        kind: 'action',
        action: 'incident.contain.credential',
        ...entries[outcome],
        context,
      });
    });
  }

  private async rotate(
    credentialId: string,
    path: string,
    principal: Principal,
    context?: AuditRequestContext,
  ): Promise<{ outcome: RotationOutcome; runId: string | null }> {
    try {
      const answer = await this.transactions.run(async (manager) => {
        const credential = await manager.findOne(Credential, {
          where: { id: credentialId },
          lock: rowLock(manager),
        });
        if (!credential || credential.status !== 'active') return null;
        const policy = await this.policies.effective(manager, credential);
        // A manual rotation only waits for a person: the incident says it must be rotated.
        if (!policy || policy.rotator.kind === 'manual') return null;
        return this.requests.openOrEscalate(
          manager,
          credential,
          { emergency: true, reason: 'found in a leak scan', trigger: 'leak' },
          principal,
          context,
        );
      }, OPENING_ISOLATION);
      if (!answer) return { outcome: 'manual', runId: null };
      if (answer.opened) void this.scheduler.runNow(answer.run);
      return { outcome: 'rotating', runId: answer.run.id };
    } catch (error) {
      const message = error instanceof DomainError ? error.message : (error as Error).message;
      this.logger.error(`Emergency rotation of leaked ${path} failed to start: ${message}`);
      return { outcome: 'failed', runId: null };
    }
  }
}
