import type { ActorActivity } from '../../audit/audit-activity.query';

/** A finished rotation, as adoption needs it. */
export interface FinishedRotation {
  runId: string;
  credentialId: string;
  /** The version the rotation made current. */
  version: number;
  finishedAt: Date;
}

export interface AdoptionConsumer {
  principalType: 'user' | 'service_account';
  principalId: string;
  /** A service's name or a person's e-mail, as the audit log recorded it. */
  name: string | null;
  lastRevealedVersion: number | null;
  lastRevealedAt: Date;
  /** Has revealed the new version (or a later one) since the rotation finished. */
  adopted: boolean;
}

export interface AdoptionReport extends FinishedRotation {
  /** Consumers are those that revealed the credential from this time until the rotation. */
  consumersSince: Date;
  consumers: AdoptionConsumer[];
  adopted: number;
  pending: number;
  /** Adopted consumers in percent, one decimal; null when no consumer is known. */
  percent: number | null;
}

/**
 * Who has picked up a rotation's new value: the consumers are the principals that revealed the
 * credential in the window before the rotation finished (`before`); each has adopted once it
 * revealed the new version, or a later one, after it finished (`since`). Its last reveal is the
 * latest of either. A principal that first revealed the credential after the rotation is not a
 * consumer of it: it never had the old value.
 */
export function adoptionOf(
  rotation: FinishedRotation,
  consumersSince: Date,
  before: readonly ActorActivity[],
  since: readonly ActorActivity[],
): AdoptionReport {
  const after = new Map(since.map((activity) => [keyOf(activity), activity]));
  const consumers = before
    .filter((activity) => activity.actorType === 'user' || activity.actorType === 'service')
    .map((activity): AdoptionConsumer => {
      const later = after.get(keyOf(activity));
      const last = later ?? activity;
      return {
        principalType: activity.actorType === 'user' ? 'user' : 'service_account',
        principalId: activity.actorId,
        name: last.actorDisplay,
        lastRevealedVersion: last.lastVersion,
        lastRevealedAt: last.lastAt,
        adopted: (later?.highestVersion ?? 0) >= rotation.version,
      };
    });
  const adopted = consumers.filter((consumer) => consumer.adopted).length;
  return {
    ...rotation,
    consumersSince,
    consumers,
    adopted,
    pending: consumers.length - adopted,
    percent: consumers.length === 0 ? null : Math.round((adopted / consumers.length) * 1000) / 10,
  };
}

/** Every known consumer has the new value; with no consumer known nothing is known to be. */
export function fullyAdopted(report: Pick<AdoptionReport, 'consumers' | 'pending'>): boolean {
  return report.consumers.length > 0 && report.pending === 0;
}

function keyOf(activity: Pick<ActorActivity, 'actorType' | 'actorId'>): string {
  return `${activity.actorType}:${activity.actorId}`;
}
