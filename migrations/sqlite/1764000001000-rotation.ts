import { MigrationInterface, QueryRunner } from 'typeorm';

const VERSION_COLUMNS =
  '"credential_id", "version", "state", "ciphertext", "iv", "tag", "wrapped_dek", "kek_id", "fingerprint", "grace_until", "revoked_at", "destroyed_at", "created_by", "created_at"';
const VERSION_TABLE_COLUMNS =
  '"credential_id" varchar(36) NOT NULL, "version" integer NOT NULL, "state" varchar(16) NOT NULL, "ciphertext" blob, "iv" varchar(16), "tag" varchar(24), "wrapped_dek" varchar(80), "kek_id" varchar(32), "fingerprint" varchar(64), "grace_until" datetime(3), "revoked_at" datetime(3), "destroyed_at" datetime(3), "created_by" varchar(36), "created_at" datetime NOT NULL DEFAULT (datetime(\'now\'))';

/**
 * Rotation: policies, persisted runs, the general event outbox, and the database's own guard of
 * the version states (SQLite adds a CHECK only by rebuilding the table).
 */
export class Rotation1764000001000 implements MigrationInterface {
  name = 'Rotation1764000001000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX "idx_credential_versions_kek"');
    await queryRunner.query(
      `CREATE TABLE "temporary_credential_versions" (${VERSION_TABLE_COLUMNS}, "live_state" varchar(8), ` +
        'CONSTRAINT "chk_credential_versions_live" CHECK (("state" IN (\'current\', \'pending\') AND "live_state" = "state") OR ("state" NOT IN (\'current\', \'pending\') AND "live_state" IS NULL)), ' +
        'PRIMARY KEY ("credential_id", "version"))',
    );
    await queryRunner.query(
      `INSERT INTO "temporary_credential_versions" (${VERSION_COLUMNS}, "live_state") ` +
        `SELECT ${VERSION_COLUMNS}, CASE WHEN "state" IN ('current', 'pending') THEN "state" END FROM "credential_versions"`,
    );
    await queryRunner.query('DROP TABLE "credential_versions"');
    await queryRunner.query(
      'ALTER TABLE "temporary_credential_versions" RENAME TO "credential_versions"',
    );
    await createVersionIndexes(queryRunner);
    await queryRunner.query(
      'CREATE INDEX "idx_credential_versions_state_revoked" ON "credential_versions" ("state", "revoked_at")',
    );
    await queryRunner.query(
      'CREATE INDEX "idx_credential_versions_state_grace" ON "credential_versions" ("state", "grace_until")',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "uq_credential_versions_live" ON "credential_versions" ("credential_id", "live_state")',
    );

    await queryRunner.query('ALTER TABLE "credentials" ADD COLUMN "next_rotation_at" datetime(3)');
    await queryRunner.query(
      'ALTER TABLE "credentials" ADD COLUMN "rotation_status" varchar(16) NOT NULL DEFAULT (\'none\')',
    );
    await queryRunner.query('ALTER TABLE "credentials" ADD COLUMN "expiry_warned_for" datetime(3)');
    await queryRunner.query(
      'CREATE INDEX "idx_credentials_next_rotation" ON "credentials" ("next_rotation_at")',
    );

    await queryRunner.query(
      'CREATE TABLE "rotation_policies" ("id" varchar(36) PRIMARY KEY NOT NULL, "credential_id" varchar(36), "path_pattern" varchar(255), "enabled" boolean NOT NULL, "rotate_every" varchar(32), "schedule" varchar(120), "rotation_window" text, "grace_period" varchar(32) NOT NULL, "schedule_offset" varchar(32), "rotator" text NOT NULL, "generator" text, "created_by" varchar(36), "created_at" datetime NOT NULL DEFAULT (datetime(\'now\')), "updated_at" datetime NOT NULL DEFAULT (datetime(\'now\')), CONSTRAINT "chk_rotation_policies_target" CHECK (("credential_id" IS NULL) <> ("path_pattern" IS NULL)))',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "uq_rotation_policies_pattern" ON "rotation_policies" ("path_pattern")',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "uq_rotation_policies_credential" ON "rotation_policies" ("credential_id")',
    );

    await queryRunner.query(
      'CREATE TABLE "rotation_runs" ("id" varchar(36) PRIMARY KEY NOT NULL, "credential_id" varchar(36) NOT NULL, "rotator" varchar(32) NOT NULL, "pending_version" integer, "step" varchar(16) NOT NULL, "status" varchar(16) NOT NULL, "open_slot" varchar(8), "attempt" integer NOT NULL, "max_attempts" integer NOT NULL, "triggered_by" varchar(16) NOT NULL, "emergency" boolean NOT NULL DEFAULT (0), "grace_seconds" integer NOT NULL, "reason" varchar(500), "error" varchar(1000), "claimed_by" varchar(128), "claim_expires_at" datetime(3), "next_attempt_at" datetime(3) NOT NULL, "overdue_at" datetime(3), "requested_by" varchar(36), "started_at" datetime(3) NOT NULL, "updated_at" datetime(3) NOT NULL, "finished_at" datetime(3), ' +
        'CONSTRAINT "chk_rotation_runs_open" CHECK (("status" IN (\'running\', \'waiting\') AND "open_slot" = \'open\') OR ("status" NOT IN (\'running\', \'waiting\') AND "open_slot" IS NULL)))',
    );
    await queryRunner.query(
      'CREATE INDEX "idx_rotation_runs_started" ON "rotation_runs" ("started_at")',
    );
    await queryRunner.query(
      'CREATE INDEX "idx_rotation_runs_status_next" ON "rotation_runs" ("status", "next_attempt_at")',
    );
    await queryRunner.query(
      'CREATE INDEX "idx_rotation_runs_credential" ON "rotation_runs" ("credential_id", "started_at")',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "uq_rotation_runs_open" ON "rotation_runs" ("credential_id", "open_slot")',
    );

    await queryRunner.query(
      'CREATE TABLE "event_outbox" ("seq" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "type" varchar(64) NOT NULL, "resource_type" varchar(32) NOT NULL, "resource_id" varchar(36) NOT NULL, "path" varchar(255), "payload" text NOT NULL, "created_at" datetime NOT NULL DEFAULT (datetime(\'now\')))',
    );
    await queryRunner.query(
      'CREATE INDEX "idx_event_outbox_resource_seq" ON "event_outbox" ("resource_id", "seq")',
    );
    await queryRunner.query(
      'CREATE INDEX "idx_event_outbox_type_seq" ON "event_outbox" ("type", "seq")',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE "event_outbox"');
    await queryRunner.query('DROP TABLE "rotation_runs"');
    await queryRunner.query('DROP TABLE "rotation_policies"');
    await queryRunner.query('DROP INDEX "idx_credentials_next_rotation"');
    await queryRunner.query('ALTER TABLE "credentials" DROP COLUMN "expiry_warned_for"');
    await queryRunner.query('ALTER TABLE "credentials" DROP COLUMN "rotation_status"');
    await queryRunner.query('ALTER TABLE "credentials" DROP COLUMN "next_rotation_at"');
    await queryRunner.query('DROP INDEX "uq_credential_versions_live"');
    await queryRunner.query('DROP INDEX "idx_credential_versions_state_grace"');
    await queryRunner.query('DROP INDEX "idx_credential_versions_state_revoked"');
    await queryRunner.query('DROP INDEX "idx_credential_versions_kek"');
    await queryRunner.query(
      `CREATE TABLE "temporary_credential_versions" (${VERSION_TABLE_COLUMNS}, PRIMARY KEY ("credential_id", "version"))`,
    );
    await queryRunner.query(
      `INSERT INTO "temporary_credential_versions" (${VERSION_COLUMNS}) SELECT ${VERSION_COLUMNS} FROM "credential_versions"`,
    );
    await queryRunner.query('DROP TABLE "credential_versions"');
    await queryRunner.query(
      'ALTER TABLE "temporary_credential_versions" RENAME TO "credential_versions"',
    );
    await createVersionIndexes(queryRunner);
  }
}

async function createVersionIndexes(queryRunner: QueryRunner): Promise<void> {
  await queryRunner.query(
    'CREATE INDEX "idx_credential_versions_kek" ON "credential_versions" ("kek_id")',
  );
}
