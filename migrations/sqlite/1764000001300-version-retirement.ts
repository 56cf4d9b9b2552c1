import { MigrationInterface, QueryRunner } from 'typeorm';

const VERSION_COLUMNS =
  '"credential_id", "version", "state", "ciphertext", "iv", "tag", "wrapped_dek", "kek_id", "fingerprint", "grace_until", "revoked_at", "destroyed_at", "created_by", "created_at", "live_state"';
const VERSION_TABLE =
  '"credential_id" varchar(36) NOT NULL, "version" integer NOT NULL, "state" varchar(16) NOT NULL, "ciphertext" blob, "iv" varchar(16), "tag" varchar(24), "wrapped_dek" varchar(80), "kek_id" varchar(32), "fingerprint" varchar(64), "grace_until" datetime(3), "revoked_at" datetime(3), "destroyed_at" datetime(3), "created_by" varchar(36), "created_at" datetime NOT NULL DEFAULT (datetime(\'now\')), "live_state" varchar(8)';
const RETIRE_COLUMNS =
  '"account" varchar(255), "retired_at" datetime(3), "retire_claim" varchar(36), "retire_after" datetime(3), "retire_failures" integer NOT NULL DEFAULT (0)';
const VERSION_CHECK =
  'CONSTRAINT "chk_credential_versions_live" CHECK (("state" IN (\'current\', \'pending\') AND "live_state" IS NOT NULL AND "live_state" = "state") OR ("state" NOT IN (\'current\', \'pending\') AND "live_state" IS NULL)), PRIMARY KEY ("credential_id", "version")';
const VERSION_INDEXES = [
  'CREATE INDEX "idx_credential_versions_kek" ON "credential_versions" ("kek_id")',
  'CREATE INDEX "idx_credential_versions_state_revoked" ON "credential_versions" ("state", "revoked_at")',
  'CREATE INDEX "idx_credential_versions_state_grace" ON "credential_versions" ("state", "grace_until")',
  'CREATE UNIQUE INDEX "uq_credential_versions_live" ON "credential_versions" ("credential_id", "live_state")',
];
const RETIRE_INDEX =
  'CREATE INDEX "idx_credential_versions_retire" ON "credential_versions" ("retired_at", "account")';

const RUN_COLUMNS =
  '"id", "credential_id", "rotator", "pending_version", "step", "status", "open_slot", "attempt", "max_attempts", "triggered_by", "emergency", "grace_seconds", "reason", "error", "claimed_by", "claim_expires_at", "next_attempt_at", "overdue_at", "requested_by", "started_at", "updated_at", "finished_at"';
const RUN_TABLE =
  '"id" varchar(36) PRIMARY KEY NOT NULL, "credential_id" varchar(36) NOT NULL, "rotator" varchar(32) NOT NULL, "pending_version" integer, "step" varchar(16) NOT NULL, "status" varchar(16) NOT NULL, "open_slot" varchar(8), "attempt" integer NOT NULL, "max_attempts" integer NOT NULL, "triggered_by" varchar(16) NOT NULL, "emergency" boolean NOT NULL DEFAULT (0), "grace_seconds" integer NOT NULL, "reason" varchar(500), "error" varchar(1000), "claimed_by" varchar(128), "claim_expires_at" datetime(3), "next_attempt_at" datetime(3) NOT NULL, "overdue_at" datetime(3), "requested_by" varchar(36), "started_at" datetime(3) NOT NULL, "updated_at" datetime(3) NOT NULL, "finished_at" datetime(3)';
const RUN_CHECK =
  'CONSTRAINT "chk_rotation_runs_open" CHECK (("status" IN (\'running\', \'waiting\') AND "open_slot" IS NOT NULL AND "open_slot" = \'open\') OR ("status" NOT IN (\'running\', \'waiting\') AND "open_slot" IS NULL))';
const RUN_INDEXES = [
  'CREATE INDEX "idx_rotation_runs_started" ON "rotation_runs" ("started_at")',
  'CREATE INDEX "idx_rotation_runs_status_next" ON "rotation_runs" ("status", "next_attempt_at")',
  'CREATE INDEX "idx_rotation_runs_credential" ON "rotation_runs" ("credential_id", "started_at")',
  'CREATE UNIQUE INDEX "uq_rotation_runs_open" ON "rotation_runs" ("credential_id", "open_slot")',
];

/**
 * Retiring accounts of versions that left service (the mariadb rotator locks the user of an
 * alternating pair whose version was revoked): which account a version belongs to, when it was
 * retired, and the claim and backoff of the job that retires it; the index finds the versions
 * still due. Runs get notes from their rotator. SQLite keeps a table's constraints last, so the
 * two tables are rebuilt with the new columns among the others rather than altered.
 */
export class VersionRetirement1764000001300 implements MigrationInterface {
  name = 'VersionRetirement1764000001300';

  async up(queryRunner: QueryRunner): Promise<void> {
    await rebuild(
      queryRunner,
      'credential_versions',
      `${VERSION_TABLE}, ${RETIRE_COLUMNS}, ${VERSION_CHECK}`,
      VERSION_COLUMNS,
      [...VERSION_INDEXES, RETIRE_INDEX],
    );
    await rebuild(
      queryRunner,
      'rotation_runs',
      `${RUN_TABLE}, "notes" varchar(500), ${RUN_CHECK}`,
      RUN_COLUMNS,
      RUN_INDEXES,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await rebuild(queryRunner, 'rotation_runs', `${RUN_TABLE}, ${RUN_CHECK}`, RUN_COLUMNS, RUN_INDEXES);
    await rebuild(
      queryRunner,
      'credential_versions',
      `${VERSION_TABLE}, ${VERSION_CHECK}`,
      VERSION_COLUMNS,
      VERSION_INDEXES,
    );
  }
}

/** The table under a new definition with the rows of `columns`; dropping it drops its indexes. */
async function rebuild(
  queryRunner: QueryRunner,
  table: string,
  definition: string,
  columns: string,
  indexes: string[],
): Promise<void> {
  await queryRunner.query(`CREATE TABLE "temporary_${table}" (${definition})`);
  await queryRunner.query(
    `INSERT INTO "temporary_${table}" (${columns}) SELECT ${columns} FROM "${table}"`,
  );
  await queryRunner.query(`DROP TABLE "${table}"`);
  await queryRunner.query(`ALTER TABLE "temporary_${table}" RENAME TO "${table}"`);
  for (const index of indexes) await queryRunner.query(index);
}
