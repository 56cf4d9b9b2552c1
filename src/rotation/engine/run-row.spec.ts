import { getMetadataArgsStorage } from 'typeorm';
import { RotationRun } from '../entities/rotation-run.entity';
import { RUN_COLUMNS, runFromRow, runSelect } from './run-row';

describe('rotation run rows in plain SQL', () => {
  it('should select every column of the entity, under its property name', () => {
    const columns = getMetadataArgsStorage()
      .columns.filter((column) => column.target === RotationRun)
      .map((column) => [column.propertyName, column.options.name ?? column.propertyName]);

    expect(Object.entries(RUN_COLUMNS).sort()).toEqual(columns.sort());
    expect(runSelect('r')).toContain('r.triggered_by AS `trigger`');
  });

  it('should convert a row as TypeORM would', () => {
    const row = {
      ...Object.fromEntries(Object.keys(RUN_COLUMNS).map((key) => [key, null])),
      id: 'r-1',
      credentialId: 'c-1',
      step: 'apply',
      status: 'running',
      pendingVersion: '3',
      attempt: 2,
      maxAttempts: '3',
      emergency: 1,
      graceSeconds: '0',
      nextAttemptAt: '2026-01-02 03:04:05.678',
      startedAt: new Date('2026-01-02T03:04:05.000Z'),
      updatedAt: new Date('2026-01-02T03:04:06.000Z'),
    } as Parameters<typeof runFromRow>[0];

    const run = runFromRow(row);

    expect(run).toBeInstanceOf(RotationRun);
    expect(run).toMatchObject({
      pendingVersion: 3,
      attempt: 2,
      maxAttempts: 3,
      emergency: true,
      graceSeconds: 0,
      nextAttemptAt: new Date('2026-01-02T03:04:05.678Z'),
      claimExpiresAt: null,
      finishedAt: null,
    });
    expect(runFromRow({ ...row, emergency: 0 }).emergency).toBe(false);
    expect(runFromRow({ ...row, pendingVersion: null }).pendingVersion).toBeNull();
  });
});
