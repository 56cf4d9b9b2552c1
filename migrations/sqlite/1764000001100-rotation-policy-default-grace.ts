import { MigrationInterface, QueryRunner } from 'typeorm';

const COLUMNS =
  '"id", "credential_id", "path_pattern", "enabled", "rotate_every", "schedule", "rotation_window", "grace_period", "schedule_offset", "rotator", "generator", "created_by", "created_at", "updated_at"';

function tableColumns(gracePeriod: string): string {
  return `"id" varchar(36) PRIMARY KEY NOT NULL, "credential_id" varchar(36), "path_pattern" varchar(255), "enabled" boolean NOT NULL, "rotate_every" varchar(32), "schedule" varchar(120), "rotation_window" text, "grace_period" ${gracePeriod}, "schedule_offset" varchar(32), "rotator" text NOT NULL, "generator" text, "created_by" varchar(36), "created_at" datetime NOT NULL DEFAULT (datetime('now')), "updated_at" datetime NOT NULL DEFAULT (datetime('now')), CONSTRAINT "chk_rotation_policies_target" CHECK (("credential_id" IS NULL) <> ("path_pattern" IS NULL))`;
}

/**
 * A policy may leave its grace period to the default of each credential's type (a path-pattern
 * policy governs credentials of several types), so the column becomes nullable; SQLite changes
 * a column only by rebuilding the table.
 */
export class RotationPolicyDefaultGrace1764000001100 implements MigrationInterface {
  name = 'RotationPolicyDefaultGrace1764000001100';

  async up(queryRunner: QueryRunner): Promise<void> {
    await rebuild(queryRunner, 'varchar(32)', '"grace_period"');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // The built-in default of most types; the column had no room for "the type's default".
    await rebuild(queryRunner, 'varchar(32) NOT NULL', `COALESCE("grace_period", 'PT24H')`);
  }
}

async function rebuild(queryRunner: QueryRunner, gracePeriod: string, graceValue: string) {
  await queryRunner.query('DROP INDEX "uq_rotation_policies_pattern"');
  await queryRunner.query('DROP INDEX "uq_rotation_policies_credential"');
  await queryRunner.query(
    `CREATE TABLE "temporary_rotation_policies" (${tableColumns(gracePeriod)})`,
  );
  await queryRunner.query(
    `INSERT INTO "temporary_rotation_policies" (${COLUMNS}) SELECT ${COLUMNS.replace(
      '"grace_period"',
      graceValue,
    )} FROM "rotation_policies"`,
  );
  await queryRunner.query('DROP TABLE "rotation_policies"');
  await queryRunner.query('ALTER TABLE "temporary_rotation_policies" RENAME TO "rotation_policies"');
  await queryRunner.query(
    'CREATE UNIQUE INDEX "uq_rotation_policies_pattern" ON "rotation_policies" ("path_pattern")',
  );
  await queryRunner.query(
    'CREATE UNIQUE INDEX "uq_rotation_policies_credential" ON "rotation_policies" ("credential_id")',
  );
}
