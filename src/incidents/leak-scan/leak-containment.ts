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

  /** `hits` of one credential (its current and in-grace versions). */
  async contain(
    hits: readonly LeakHit[],
    principal: Principal,
    context?: AuditRequestContext,
  ): Promise<RotationOutcome> {
    const { credentialId, path } = hits[0];
    const versions = hits.map((hit) => hit.version);
    const { outcome: rotation, runId } = await this.rotate(credentialId, path, principal, context);
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
        rotation,
        reportedBy: { type: principal.type, id: principal.id },
        requestId: context?.requestId ?? null,
      },
      actor: context?.actor ?? SYSTEM,
    });
    if (runId) await this.recordRotation(incident.id, credentialId, path, runId, context);
    this.logger.warn(
      `Leak of ${path} (versions ${versions.join(', ')}): incident ${incident.id}, rotation ${rotation}`,
    );
    return rotation;
  }

  /**
   * The emergency rotation as a containment action of the incident, as the incident's own
   * containment writes it: that containment then counts the credential as handled instead of
   * rotating it a second time (and cutting off the value that replaced the leaked one).
   */
  private async recordRotation(
    incidentId: string,
    credentialId: string,
    path: string,
    runId: string,
    context?: AuditRequestContext,
  ): Promise<void> {
    await this.transactions.run(async (manager) => {
      await this.recorder.lock(manager, incidentId);
      await this.recorder.appendTimeline(manager, incidentId, {
        kind: 'action',
        action: 'incident.contain.credential',
        text: `emergency rotation of ${path} (grace 0), started by the leak scan`,
        details: { containment: 'rotating', credentialId, path, runId, trigger: 'leak' },
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
