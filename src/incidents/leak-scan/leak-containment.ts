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
    const rotation = await this.rotate(credentialId, path, principal, context);
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
    this.logger.warn(
      `Leak of ${path} (versions ${versions.join(', ')}): incident ${incident.id}, rotation ${rotation}`,
    );
    return rotation;
  }

  private async rotate(
    credentialId: string,
    path: string,
    principal: Principal,
    context?: AuditRequestContext,
  ): Promise<RotationOutcome> {
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
      if (!answer) return 'manual';
      if (answer.opened) void this.scheduler.runNow(answer.run);
      return 'rotating';
    } catch (error) {
      const message = error instanceof DomainError ? error.message : (error as Error).message;
      this.logger.error(`Emergency rotation of leaked ${path} failed to start: ${message}`);
      return 'failed';
    }
  }
}
