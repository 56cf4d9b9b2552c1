import { EntityManager } from 'typeorm';
import { Credential, RotationStatus } from '../../credentials/entities/credential.entity';
import { nextRotationAt } from '../schedule/next-rotation';
import type { EffectivePolicy } from './effective-policy';

/** What a credential's row says about its next rotation. */
export interface SchedulePlan {
  nextRotationAt: Date | null;
  rotationStatus: RotationStatus;
}

/** A run is open: the engine reschedules the credential when the run ends, nobody else. */
export const IN_RUN: readonly RotationStatus[] = ['rotating', 'awaiting_value'];

/**
 * The schedule a policy gives: `none` without a policy, `disabled` with a switched-off one (no
 * time either way), else `status` at `at` or at the policy's next time after `from`.
 */
export function planSchedule(
  policy: EffectivePolicy | null,
  from: Date,
  status: 'scheduled' | 'failed' = 'scheduled',
  at?: Date,
): SchedulePlan {
  if (!policy) return { nextRotationAt: null, rotationStatus: 'none' };
  if (!policy.enabled) return { nextRotationAt: null, rotationStatus: 'disabled' };
  return { nextRotationAt: at ?? nextRotationAt(policy, from), rotationStatus: status };
}

/**
 * The schedule after a policy changed, from `now` (the database clock), or null to leave the
 * credential alone while a run is open. A failed credential stays failed and keeps its retry if
 * that comes sooner: a policy change must neither start a rotation nor put off a due retry.
 */
export function planAfterPolicyChange(
  policy: EffectivePolicy | null,
  credential: Pick<Credential, 'rotationStatus' | 'nextRotationAt'>,
  now: Date,
): SchedulePlan | null {
  if (IN_RUN.includes(credential.rotationStatus)) return null;
  const plan = planSchedule(policy, now);
  const retry = credential.nextRotationAt;
  if (credential.rotationStatus !== 'failed' || plan.rotationStatus !== 'scheduled' || !retry) {
    return plan;
  }
  const sooner = retry.getTime() < plan.nextRotationAt!.getTime() ? retry : plan.nextRotationAt;
  return { nextRotationAt: sooner, rotationStatus: 'failed' };
}

export function samePlan(a: SchedulePlan, b: SchedulePlan): boolean {
  return (
    a.rotationStatus === b.rotationStatus &&
    (a.nextRotationAt?.getTime() ?? null) === (b.nextRotationAt?.getTime() ?? null)
  );
}

/**
 * Writes one schedule to the rows of `ids`, bumping their row version. With `skipInRun`, rows
 * whose run opened meanwhile are left out by the statement itself. Returns the rows written.
 */
export async function writeSchedule(
  manager: EntityManager,
  ids: readonly string[],
  plan: SchedulePlan,
  options: { skipInRun?: boolean } = {},
): Promise<number> {
  if (ids.length === 0) return 0;
  const update = manager
    .createQueryBuilder()
    .update(Credential)
    .set({
      nextRotationAt: plan.nextRotationAt,
      rotationStatus: plan.rotationStatus,
      rowVersion: () => 'row_version + 1',
    })
    .where('id IN (:...ids)', { ids });
  if (options.skipInRun) update.andWhere('rotation_status NOT IN (:...inRun)', { inRun: IN_RUN });
  const result = await update.execute();
  return result.affected ?? ids.length;
}
