import { toDate } from '../../database/dialect';
import { RotationRun } from '../entities/rotation-run.entity';

/** Every column of `rotation_runs`, each under its entity property name. */
export const RUN_COLUMNS: Readonly<Record<keyof RotationRun, string>> = {
  id: 'id',
  credentialId: 'credential_id',
  rotator: 'rotator',
  pendingVersion: 'pending_version',
  step: 'step',
  status: 'status',
  openSlot: 'open_slot',
  attempt: 'attempt',
  maxAttempts: 'max_attempts',
  trigger: 'triggered_by',
  emergency: 'emergency',
  graceSeconds: 'grace_seconds',
  reason: 'reason',
  error: 'error',
  notes: 'notes',
  claimedBy: 'claimed_by',
  claimExpiresAt: 'claim_expires_at',
  nextAttemptAt: 'next_attempt_at',
  overdueAt: 'overdue_at',
  requestedBy: 'requested_by',
  startedAt: 'started_at',
  updatedAt: 'updated_at',
  finishedAt: 'finished_at',
};

/**
 * `r.credential_id AS credentialId, …`: the select list for rows that runFromRow() reads. The
 * names are quoted (`trigger` is a reserved word); MariaDB and SQLite both take backticks.
 */
export function runSelect(alias: string): string {
  return Object.entries(RUN_COLUMNS)
    .map(([property, column]) => `${alias}.${column} AS \`${property}\``)
    .join(', ');
}

type Row = Record<keyof RotationRun, unknown>;

/**
 * A RotationRun from a plain-SQL row, converted as TypeORM would (ints, booleans, datetimes): the
 * engine reads its run several times per rotation, and the query builder cost more CPU than the
 * statement.
 */
export function runFromRow(row: Row): RotationRun {
  return Object.assign(new RotationRun(), {
    id: row.id as string,
    credentialId: row.credentialId as string,
    rotator: row.rotator as string,
    pendingVersion: row.pendingVersion === null ? null : Number(row.pendingVersion),
    step: row.step as RotationRun['step'],
    status: row.status as RotationRun['status'],
    openSlot: row.openSlot as RotationRun['openSlot'],
    attempt: Number(row.attempt),
    maxAttempts: Number(row.maxAttempts),
    trigger: row.trigger as RotationRun['trigger'],
    emergency: Boolean(Number(row.emergency)),
    graceSeconds: Number(row.graceSeconds),
    reason: row.reason as string | null,
    error: row.error as string | null,
    notes: row.notes as string | null,
    claimedBy: row.claimedBy as string | null,
    claimExpiresAt: date(row.claimExpiresAt),
    nextAttemptAt: date(row.nextAttemptAt)!,
    overdueAt: date(row.overdueAt),
    requestedBy: row.requestedBy as string | null,
    startedAt: date(row.startedAt)!,
    updatedAt: date(row.updatedAt)!,
    finishedAt: date(row.finishedAt),
  });
}

function date(value: unknown): Date | null {
  return value === null || value === undefined ? null : toDate(value as Date | string);
}
