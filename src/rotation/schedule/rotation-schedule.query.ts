import { Inject, Injectable } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AccessPolicy, PrincipalAccess } from '../../auth/grants/access-policy';
import { pathProblem } from '../../auth/grants/path-pattern';
import { pathPatternsSql } from '../../auth/grants/path-pattern-sql';
import type { Role } from '../../common/auth/access-vocabulary';
import type { Principal } from '../../common/auth/principal';
import { PageCursor } from '../../common/pagination/page-cursor';
import { rotationConfig } from '../../config/rotation.config';
import type { RotationStatus } from '../../credentials/entities/credential.entity';
import type { CredentialType } from '../../credentials/secrets/credential-type';
import {
  Dialect,
  dialectOf,
  SqlFragment,
  toDate,
  utcNowPlusSql,
  utcNowSql,
} from '../../database/dialect';
import { DirectSql } from '../../database/direct-sql';

/** Pages of both lists are ordered by path, like every credential list; a cursor holds one. */
export const DUE_CURSOR = new PageCursor('rotations-due', (path) => !pathProblem(path));
export const OVERDUE_CURSOR = new PageCursor('rotations-overdue', (path) => !pathProblem(path));

/**
 * Roles that watch every schedule: admin and operator rotate anything, auditors read everything
 * and oversee that rotation happens. Everyone else (viewers, services) sees the credentials they
 * may both read and rotate, by grant: none at all is an empty list, as with the credential list.
 */
const WATCHING_ROLES: ReadonlySet<Role> = new Set(['admin', 'operator', 'auditor']);

/** Who asks: a caller over HTTP, or Custos itself (metrics, readiness, the engine). */
export type ScheduleViewer = Principal | 'system';

export interface ScheduleItem {
  credentialId: string;
  path: string;
  type: CredentialType;
  nextRotationAt: Date | null;
  rotationStatus: RotationStatus;
  /** How long since it became overdue (database clock); absent when it is not overdue. */
  overdueSeconds?: number;
  /** The open (running or waiting) run, if any. */
  runId?: string;
}

export interface SchedulePage {
  items: ScheduleItem[];
  nextCursor: string | null;
}

export interface ScheduleCounts {
  /** Credentials whose rotation time has come, those in flight included. */
  due: number;
  overdue: number;
  /** How long the longest-overdue credential has been overdue; 0 when none is. */
  oldestOverdueSeconds: number;
  /** Runs running or waiting for a person. */
  inFlight: number;
}

interface Row {
  credentialId: string;
  path: string;
  type: string;
  nextRotationAt: Date | string | null;
  rotationStatus: string;
  runId: string | null;
  runStatus: string | null;
  runOverdueAt: Date | string | null;
  now: Date | string;
}

interface CountsRow {
  due: number | string;
  overdue: number | string;
  oldestNext: Date | string | null;
  oldestWaiting: Date | string | null;
  inFlight: number | string;
  now: Date | string;
}

const FROM =
  "credentials c LEFT JOIN rotation_runs r ON r.credential_id = c.id AND r.open_slot = 'open'";
const COLUMNS =
  'c.id AS credentialId, c.path AS path, c.type AS type, c.next_rotation_at AS nextRotationAt, ' +
  'c.rotation_status AS rotationStatus, r.id AS runId, r.status AS runStatus, ' +
  'r.overdue_at AS runOverdueAt';

/**
 * Which credentials are due or overdue for rotation, by the database clock (DESIGN.md §5).
 *
 * - Due: an active credential whose `next_rotation_at` has come (scheduled, or failed and due
 *   for its next attempt), and every one with a rotation in flight (rotating, awaiting_value).
 * - Overdue: `next_rotation_at` more than ROTATION_OVERDUE_AFTER in the past (scheduled, still
 *   rotating, or failed and not yet succeeded), or a manual run waiting past its `overdue_at`
 *   (ROTATION_MANUAL_OVERDUE_AFTER after it asked a person).
 *
 * Plain SQL on the pool, one statement each (counts are read on every scrape and readiness probe).
 */
@Injectable()
export class RotationScheduleQuery {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly sql: DirectSql,
    private readonly policy: AccessPolicy,
    @Inject(rotationConfig.KEY) private readonly config: ConfigType<typeof rotationConfig>,
  ) {}

  due(limit: number, cursor: string | undefined, viewer: ScheduleViewer): Promise<SchedulePage> {
    return this.page(this.dueCondition(this.dialect), DUE_CURSOR, limit, cursor, viewer);
  }

  overdue(
    limit: number,
    cursor: string | undefined,
    viewer: ScheduleViewer,
  ): Promise<SchedulePage> {
    return this.page(this.overdueCondition(this.dialect), OVERDUE_CURSOR, limit, cursor, viewer);
  }

  /** Totals over every credential, for metrics and readiness (no caller's grants apply). */
  async counts(): Promise<ScheduleCounts> {
    const dialect = this.dialect;
    const due = this.dueCondition(dialect);
    const scheduled = this.lateSchedule(dialect);
    const waiting = this.lateManual(dialect);
    const overdue = this.overdueCondition(dialect);
    const [row] = await this.sql.select<CountsRow>(
      `SELECT (SELECT COUNT(*) FROM credentials c WHERE ${due.sql}) AS due, ` +
        'o.overdue AS overdue, o.oldestNext AS oldestNext, o.oldestWaiting AS oldestWaiting, ' +
        "(SELECT COUNT(*) FROM rotation_runs WHERE status IN ('running', 'waiting')) AS inFlight, " +
        `${utcNowSql(dialect)} AS now FROM (SELECT COUNT(*) AS overdue, ` +
        `MIN(CASE WHEN ${scheduled.sql} THEN c.next_rotation_at END) AS oldestNext, ` +
        `MIN(CASE WHEN ${waiting.sql} THEN r.overdue_at END) AS oldestWaiting ` +
        `FROM ${FROM} WHERE ${overdue.sql}) o`,
      [...due.parameters, ...scheduled.parameters, ...waiting.parameters, ...overdue.parameters],
    );
    const now = toDate(row.now);
    const since = [
      row.oldestNext === null ? null : this.scheduledOverdueSince(toDate(row.oldestNext)),
      row.oldestWaiting === null ? null : toDate(row.oldestWaiting),
    ].filter((d): d is Date => d !== null);
    const oldest = since.length > 0 ? Math.min(...since.map((d) => d.getTime())) : null;
    return {
      due: Number(row.due),
      overdue: Number(row.overdue),
      oldestOverdueSeconds: oldest === null ? 0 : secondsBetween(oldest, now.getTime()),
      inFlight: Number(row.inFlight),
    };
  }

  private async page(
    condition: SqlFragment,
    cursors: PageCursor,
    limit: number,
    cursor: string | undefined,
    viewer: ScheduleViewer,
  ): Promise<SchedulePage> {
    const dialect = this.dialect;
    const access = await this.accessOf(viewer, dialect);
    const clauses = [condition.sql];
    const parameters = [...condition.parameters];
    if (access) {
      for (const capability of ['read', 'rotate'] as const) {
        const scope = access.scopeOf(capability);
        if (scope === 'all') continue;
        const visible = pathPatternsSql('c.path', scope);
        clauses.push(visible.sql);
        parameters.push(...visible.parameters);
      }
    }
    const after = cursors.decode(cursor);
    if (after !== undefined) {
      clauses.push('c.path > ?');
      parameters.push(after);
    }
    const rows = await this.sql.select<Row>(
      `SELECT ${COLUMNS}, ${utcNowSql(dialect)} AS now FROM ${FROM} ` +
        `WHERE ${clauses.join(' AND ')} ORDER BY c.path ASC LIMIT ?`,
      [...parameters, limit + 1],
    );
    // The SQL filter and the policy must agree; a row they disagree on is never shown.
    const items = rows
      .slice(0, limit)
      .filter((row) => !access || (access.can('read', row.path) && access.can('rotate', row.path)))
      .map((row) => this.toItem(row));
    return {
      items,
      nextCursor: rows.length > limit ? cursors.encode(rows[limit - 1].path) : null,
    };
  }

  /** Null: the viewer sees every credential. */
  private async accessOf(
    viewer: ScheduleViewer,
    dialect: Dialect,
  ): Promise<PrincipalAccess | null> {
    if (viewer === 'system') return null;
    if (viewer.type === 'user' && WATCHING_ROLES.has(viewer.role)) return null;
    const grants = this.policy.grantsColumn(viewer, dialect);
    if (!grants) return null;
    const [row] = await this.sql.select<{ grants: unknown }>(
      `SELECT ${grants.sql} AS grants`,
      grants.parameters,
    );
    return this.policy.accessFrom(viewer, row?.grants);
  }

  private toItem(row: Row): ScheduleItem {
    const now = toDate(row.now);
    const nextRotationAt = row.nextRotationAt === null ? null : toDate(row.nextRotationAt);
    const since = this.overdueSince(row, nextRotationAt, now);
    return {
      credentialId: row.credentialId,
      path: row.path,
      type: row.type as CredentialType,
      nextRotationAt,
      rotationStatus: row.rotationStatus as RotationStatus,
      ...(since === null ? {} : { overdueSeconds: secondsBetween(since.getTime(), now.getTime()) }),
      ...(row.runId === null ? {} : { runId: row.runId }),
    };
  }

  /** When the row became overdue (the earlier of its two reasons), or null when it is not. */
  private overdueSince(row: Row, nextRotationAt: Date | null, now: Date): Date | null {
    const reasons: Date[] = [];
    if (nextRotationAt && LATE_SCHEDULE_STATUSES.includes(row.rotationStatus)) {
      reasons.push(this.scheduledOverdueSince(nextRotationAt));
    }
    if (row.runStatus === 'waiting' && row.runOverdueAt !== null) {
      reasons.push(toDate(row.runOverdueAt));
    }
    const past = reasons.filter((d) => d.getTime() <= now.getTime());
    return past.length > 0 ? new Date(Math.min(...past.map((d) => d.getTime()))) : null;
  }

  private scheduledOverdueSince(nextRotationAt: Date): Date {
    return new Date(nextRotationAt.getTime() + this.config.overdueAfterSeconds * 1000);
  }

  private dueCondition(dialect: Dialect): SqlFragment {
    return {
      sql:
        "c.status = 'active' AND ((c.rotation_status IN ('scheduled', 'failed') " +
        `AND c.next_rotation_at <= ${utcNowSql(dialect)}) ` +
        "OR c.rotation_status IN ('rotating', 'awaiting_value'))",
      parameters: [],
    };
  }

  private overdueCondition(dialect: Dialect): SqlFragment {
    const scheduled = this.lateSchedule(dialect);
    const waiting = this.lateManual(dialect);
    return {
      sql: `c.status = 'active' AND (${scheduled.sql} OR ${waiting.sql})`,
      parameters: [...scheduled.parameters, ...waiting.parameters],
    };
  }

  /** Its rotation time passed more than ROTATION_OVERDUE_AFTER ago, and it is not done yet. */
  private lateSchedule(dialect: Dialect): SqlFragment {
    const threshold = utcNowPlusSql(dialect, -this.config.overdueAfterSeconds * 1000);
    return {
      sql:
        `(c.rotation_status IN (${LATE_SCHEDULE_STATUSES.map((s) => `'${s}'`).join(', ')}) ` +
        `AND c.next_rotation_at <= ${threshold})`,
      parameters: [],
    };
  }

  /** A manual run still waits for its value past its `overdue_at`. */
  private lateManual(dialect: Dialect): SqlFragment {
    return {
      sql: `(r.status = 'waiting' AND r.overdue_at <= ${utcNowSql(dialect)})`,
      parameters: [],
    };
  }

  private get dialect(): Dialect {
    return dialectOf(this.dataSource);
  }
}

/**
 * Statuses judged by `next_rotation_at`. A credential awaiting a person's value is judged by its
 * waiting run's own, longer allowance instead.
 */
const LATE_SCHEDULE_STATUSES: readonly string[] = ['scheduled', 'rotating', 'failed'];

function secondsBetween(fromMs: number, toMs: number): number {
  return Math.max(0, Math.floor((toMs - fromMs) / 1000));
}
