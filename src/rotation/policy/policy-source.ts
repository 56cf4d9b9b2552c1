import type { EntityManager } from 'typeorm';
import type { Credential } from '../../credentials/entities/credential.entity';
import type { EffectivePolicy } from './effective-policy';

/**
 * What the engine needs of policies: which one applies to a credential, and writing its next
 * due time. An abstract class so Nest can inject it; the policy service provides it.
 */
export abstract class PolicySource {
  abstract effective(
    manager: EntityManager,
    credential: Credential,
  ): Promise<EffectivePolicy | null>;

  /** effective() of several credentials, read at once; by credential id. */
  abstract effectiveOfEach(
    manager: EntityManager,
    credentials: readonly Credential[],
  ): Promise<Map<string, EffectivePolicy | null>>;

  /**
   * Writes `next_rotation_at` (`at`, else the policy's next time after `from`) and the rotation
   * status; returns the time written (null without an enabled policy).
   */
  abstract reschedule(
    manager: EntityManager,
    credential: Credential,
    from: Date,
    status?: 'scheduled' | 'failed',
    at?: Date,
  ): Promise<Date | null>;

  /** reschedule() of several credentials from their policies' next times after `from`. */
  abstract rescheduleAll(
    manager: EntityManager,
    credentials: readonly Credential[],
    from: Date,
  ): Promise<Map<string, Date | null>>;
}
