import { PolicySource } from './policy-source';
import { Inject, Injectable } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { EntityManager, In, IsNull } from 'typeorm';
import { rotationConfig } from '../../config/rotation.config';
import type { Credential } from '../../credentials/entities/credential.entity';
import { RotationPolicy } from '../entities/rotation-policy.entity';
import { RotatorRegistry } from '../rotators/rotator-registry';
import type { EffectivePolicy } from './effective-policy';
import { mostSpecificPattern, toEffective } from './policy-resolution';
import {
  planAfterPolicyChange,
  planSchedule,
  SchedulePlan,
  writeSchedule,
} from './rotation-schedule';

/**
 * Which policy applies to a credential, and the credential's schedule under it. The engine calls
 * effective() when it starts a run and reschedule() when one ends; policy changes call
 * applyPolicyChange().
 */
@Injectable()
export class RotationPolicyService implements PolicySource {
  constructor(
    @Inject(rotationConfig.KEY) private readonly config: ConfigType<typeof rotationConfig>,
    private readonly registry: RotatorRegistry,
  ) {}

  /**
   * The credential's own policy, else the most specific path-pattern policy matching its path,
   * with the type's defaults filled in; null when none applies. A pattern policy whose rotator
   * cannot rotate the credential's type does not apply to it (and a less specific one does not
   * step in: the most specific pattern says what happens under it).
   */
  async effective(manager: EntityManager, credential: Credential): Promise<EffectivePolicy | null> {
    // One statement: the credential's own policy and every pattern policy (there are few).
    const rows = await manager.find(RotationPolicy, {
      where: [{ credentialId: credential.id }, { credentialId: IsNull() }],
    });
    const own = rows.find((row) => row.credentialId === credential.id) ?? null;
    return this.effectiveAmong(
      own,
      rows.filter((row) => row.credentialId === null),
      credential,
    );
  }

  /** effective() of several credentials in one statement, by credential id. */
  async effectiveOfEach(
    manager: EntityManager,
    credentials: readonly Credential[],
  ): Promise<Map<string, EffectivePolicy | null>> {
    const result = new Map<string, EffectivePolicy | null>();
    if (credentials.length === 0) return result;
    const rows = await manager.find(RotationPolicy, {
      where: [{ credentialId: In(credentials.map((c) => c.id)) }, { credentialId: IsNull() }],
    });
    const patterns = rows.filter((row) => row.credentialId === null);
    for (const credential of credentials) {
      const own = rows.find((row) => row.credentialId === credential.id) ?? null;
      result.set(credential.id, this.effectiveAmong(own, patterns, credential));
    }
    return result;
  }

  /**
   * Writes the credential's next rotation (`at`, else its policy's next time after `from`) and
   * rotation status (`status` under an enabled policy, `disabled` under a disabled one, `none`
   * without a policy), bumps its row version, and returns the time written. The credential
   * object is updated too.
   */
  async reschedule(
    manager: EntityManager,
    credential: Credential,
    from: Date,
    status: 'scheduled' | 'failed' = 'scheduled',
    at?: Date,
  ): Promise<Date | null> {
    const plan = planSchedule(await this.effective(manager, credential), from, status, at);
    await this.write(manager, credential, plan);
    return plan.nextRotationAt;
  }

  async rescheduleAll(
    manager: EntityManager,
    credentials: readonly Credential[],
    from: Date,
  ): Promise<Map<string, Date | null>> {
    const policies = await this.effectiveOfEach(manager, credentials);
    const groups = new Map<string, { plan: SchedulePlan; credentials: Credential[] }>();
    for (const credential of credentials) {
      const plan = planSchedule(policies.get(credential.id) ?? null, from);
      const key = JSON.stringify(plan);
      const group = groups.get(key) ?? { plan, credentials: [] };
      group.credentials.push(credential);
      groups.set(key, group);
    }
    const next = new Map<string, Date | null>();
    // Credentials rotated together mostly share their next time: one statement per distinct plan.
    for (const { plan, credentials: group } of groups.values()) {
      await writeSchedule(
        manager,
        group.map((c) => c.id),
        plan,
      );
      for (const credential of group) {
        this.applyPlan(credential, plan);
        next.set(credential.id, plan.nextRotationAt);
      }
    }
    return next;
  }

  /**
   * After the policy that applies to the credential changed: rescheduled from `now` (the database
   * clock), never due at once, and left alone while a run is open (the engine reschedules it
   * when the run ends).
   */
  async applyPolicyChange(
    manager: EntityManager,
    credential: Credential,
    now: Date,
  ): Promise<void> {
    const plan = planAfterPolicyChange(await this.effective(manager, credential), credential, now);
    if (plan) await this.write(manager, credential, plan);
  }

  /** Every path-pattern policy; there are few, so they are matched in memory like grants. */
  patternPolicies(manager: EntityManager): Promise<RotationPolicy[]> {
    return manager.find(RotationPolicy, { where: { credentialId: IsNull() } });
  }

  /** effective() with the policies already loaded: `own`, else the most specific of `patterns`. */
  effectiveAmong(
    own: RotationPolicy | null,
    patterns: readonly RotationPolicy[],
    credential: Pick<Credential, 'path' | 'type'>,
  ): EffectivePolicy | null {
    if (own) return toEffective(own, credential.type, this.config.defaults);
    const pattern = mostSpecificPattern(patterns, credential.path);
    if (!pattern || !this.registry.supports(pattern.rotator.kind, credential.type)) return null;
    return toEffective(pattern, credential.type, this.config.defaults);
  }

  private async write(
    manager: EntityManager,
    credential: Credential,
    plan: SchedulePlan,
  ): Promise<void> {
    await writeSchedule(manager, [credential.id], plan);
    this.applyPlan(credential, plan);
  }

  /** The credential as writeSchedule() left its row. */
  private applyPlan(credential: Credential, plan: SchedulePlan): void {
    credential.nextRotationAt = plan.nextRotationAt;
    credential.rotationStatus = plan.rotationStatus;
    credential.rowVersion += 1;
  }
}
