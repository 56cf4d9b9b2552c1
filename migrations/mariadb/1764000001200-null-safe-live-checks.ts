import { MigrationInterface, QueryRunner } from 'typeorm';

const VERSIONS_OLD =
  "(`state` IN ('current', 'pending') AND `live_state` = `state`) OR " +
  "(`state` NOT IN ('current', 'pending') AND `live_state` IS NULL)";
const VERSIONS_NEW =
  "(`state` IN ('current', 'pending') AND `live_state` IS NOT NULL AND `live_state` = `state`) OR " +
  "(`state` NOT IN ('current', 'pending') AND `live_state` IS NULL)";
const RUNS_OLD =
  "(`status` IN ('running', 'waiting') AND `open_slot` = 'open') OR " +
  "(`status` NOT IN ('running', 'waiting') AND `open_slot` IS NULL)";
const RUNS_NEW =
  "(`status` IN ('running', 'waiting') AND `open_slot` IS NOT NULL AND `open_slot` = 'open') OR " +
  "(`status` NOT IN ('running', 'waiting') AND `open_slot` IS NULL)";

/**
 * A CHECK refuses a row only when its expression is false, and `live_state = state` is NULL,
 * not false, when live_state is NULL: a current (or pending) version without live_state passed,
 * and the unique index ignores NULLs, so a second current version could be stored. The same
 * held for an open run without open_slot. The checks now say IS NOT NULL.
 */
export class NullSafeLiveChecks1764000001200 implements MigrationInterface {
  name = 'NullSafeLiveChecks1764000001200';

  async up(queryRunner: QueryRunner): Promise<void> {
    await replaceCheck(queryRunner, 'credential_versions', 'chk_credential_versions_live', VERSIONS_NEW);
    await replaceCheck(queryRunner, 'rotation_runs', 'chk_rotation_runs_open', RUNS_NEW);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await replaceCheck(queryRunner, 'rotation_runs', 'chk_rotation_runs_open', RUNS_OLD);
    await replaceCheck(queryRunner, 'credential_versions', 'chk_credential_versions_live', VERSIONS_OLD);
  }
}

async function replaceCheck(
  queryRunner: QueryRunner,
  table: string,
  name: string,
  expression: string,
): Promise<void> {
  await queryRunner.query(`ALTER TABLE \`${table}\` DROP CONSTRAINT \`${name}\``);
  await queryRunner.query(`ALTER TABLE \`${table}\` ADD CONSTRAINT \`${name}\` CHECK (${expression})`);
}
