import { Inject, Injectable } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { ActorActivity, AuditActivityQuery } from '../../audit/audit-activity.query';
import { adoptionConfig } from '../../config/adoption.config';
import { AdoptionReport, adoptionOf, FinishedRotation } from './adoption-report';

/** The audit action of every successful reveal, by id or by path; its details name the version. */
export const REVEAL_ACTION = 'credential.reveal';

/**
 * Adoption from the audit log: the consumers of a rotation are the principals that revealed the
 * credential during ROTATION_ADOPTION_WINDOW before it finished; each has adopted once it has
 * revealed the new version since. Two statements: the consumers (a fixed set once the run has
 * finished, so callers may keep it) and the reveals since the rotation.
 */
@Injectable()
export class AdoptionTracker {
  constructor(
    private readonly activity: AuditActivityQuery,
    @Inject(adoptionConfig.KEY) private readonly config: ConfigType<typeof adoptionConfig>,
  ) {}

  /** Where the consumers of a rotation are counted from. */
  consumersSince(rotation: FinishedRotation): Date {
    return new Date(rotation.finishedAt.getTime() - this.config.windowSeconds * 1000);
  }

  /** Who revealed the credential in the window before the rotation finished. */
  consumersOf(rotation: FinishedRotation): Promise<ActorActivity[]> {
    return this.activity.actorsOf(
      rotation.credentialId,
      REVEAL_ACTION,
      this.consumersSince(rotation),
      rotation.finishedAt,
    );
  }

  /** The rotation's adoption now; `consumers` when the caller already has them. */
  async report(rotation: FinishedRotation, consumers?: ActorActivity[]): Promise<AdoptionReport> {
    const before = consumers ?? (await this.consumersOf(rotation));
    const since = await this.activity.actorsOf(
      rotation.credentialId,
      REVEAL_ACTION,
      rotation.finishedAt,
    );
    return adoptionOf(rotation, this.consumersSince(rotation), before, since);
  }
}
