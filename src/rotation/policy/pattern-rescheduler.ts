import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { pathPatternsSql } from '../../auth/grants/path-pattern-sql';
import { toDate, placeholders } from '../../database/dialect';
import type { Credential } from '../../credentials/entities/credential.entity';
import type { RotationPolicy } from '../entities/rotation-policy.entity';
import { mostSpecificPattern } from './policy-resolution';
import {
  IN_RUN,
  planAfterPolicyChange,
  samePlan,
  SchedulePlan,
  writeSchedule,
} from './rotation-schedule';
import { RotationPolicyService } from './rotation-policy.service';

/** Credentials read and written per statement: bounded memory and statement size. */
export const RESCHEDULE_BATCH = 500;

type Row = Pick<Credential, 'id' | 'path' | 'type' | 'rotationStatus' | 'nextRotationAt'>;

export interface PatternChange {
  /** The pattern policy that was put or is being deleted. */
  policy: Pick<RotationPolicy, 'id' | 'pathPattern'>;
  /** Every pattern policy, that one included: who it governs is decided among these. */
  governing: readonly RotationPolicy[];
  /** Every pattern policy as it stands after the change: what applies to them now. */
  after: readonly RotationPolicy[];
}

/**
 * After a path-pattern policy is put or deleted, reschedules every active credential it governs
 * (those under its pattern with no policy of their own and no more specific pattern), in the
 * caller's transaction, a batch at a time. Credentials given the same schedule share one UPDATE.
 */
@Injectable()
export class PatternRescheduler {
  constructor(private readonly policies: RotationPolicyService) {}

  /** Returns how many credentials were rescheduled. */
  async reschedule(manager: EntityManager, change: PatternChange, now: Date): Promise<number> {
    let written = 0;
    let after = '';
    for (;;) {
      const rows = await this.candidates(manager, change.policy.pathPattern!, after);
      const groups = new Map<string, { plan: SchedulePlan; ids: string[] }>();
      for (const row of rows) {
        if (mostSpecificPattern(change.governing, row.path)?.id !== change.policy.id) continue;
        const policy = this.policies.effectiveAmong(null, change.after, row);
        const plan = planAfterPolicyChange(policy, row, now);
        if (!plan || samePlan(plan, row)) continue;
        const key = `${plan.rotationStatus}@${plan.nextRotationAt?.getTime() ?? ''}`;
        const group = groups.get(key) ?? { plan, ids: [] };
        group.ids.push(row.id);
        groups.set(key, group);
      }
      for (const { plan, ids } of groups.values()) {
        written += await writeSchedule(manager, ids, plan, { skipInRun: true });
      }
      if (rows.length < RESCHEDULE_BATCH) return written;
      after = rows[rows.length - 1].id;
    }
  }

  /** Active credentials under the pattern without a policy of their own and no open run. */
  private async candidates(manager: EntityManager, pattern: string, after: string): Promise<Row[]> {
    const matching = pathPatternsSql('c.path', [pattern]);
    const rows = await manager.query<Record<string, unknown>[]>(
      'SELECT c.id AS id, c.path AS path, c.type AS type, c.rotation_status AS rotationStatus, ' +
        'c.next_rotation_at AS nextRotationAt FROM credentials c ' +
        `WHERE c.status = 'active' AND ${matching.sql} ` +
        `AND c.rotation_status NOT IN (${placeholders(IN_RUN)}) ` +
        'AND NOT EXISTS (SELECT 1 FROM rotation_policies p WHERE p.credential_id = c.id) ' +
        'AND c.id > ? ORDER BY c.id LIMIT ?',
      [...matching.parameters, ...IN_RUN, after, RESCHEDULE_BATCH],
    );
    return rows.map((row) => ({
      id: row.id as string,
      path: row.path as string,
      type: row.type as Credential['type'],
      rotationStatus: row.rotationStatus as Credential['rotationStatus'],
      nextRotationAt:
        row.nextRotationAt === null ? null : toDate(row.nextRotationAt as Date | string),
    }));
  }
}
