import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Adoption tracking: a policy may end the grace early once every consumer has the new value;
 * `rotation_adoption_warnings` holds one row per run whose lagging adoption was announced, so
 * that each run is announced once; and the index that finds a credential's reveals in a time
 * range without reading its whole history.
 */
export class RotationAdoption1764000001510 implements MigrationInterface {
  name = 'RotationAdoption1764000001510';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'ALTER TABLE "rotation_policies" ADD COLUMN "end_grace_on_full_adoption" boolean NOT NULL DEFAULT (0)',
    );
    await queryRunner.query(
      'CREATE TABLE "rotation_adoption_warnings" ("run_id" varchar(36) PRIMARY KEY NOT NULL, ' +
        '"credential_id" varchar(36) NOT NULL, "warned_at" datetime(3) NOT NULL)',
    );
    await queryRunner.query(
      'CREATE INDEX "idx_audit_events_resource_action_time" ON "audit_events" ' +
        '("resource_id", "action", "occurred_at")',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX "idx_audit_events_resource_action_time"');
    await queryRunner.query('DROP TABLE "rotation_adoption_warnings"');
    await queryRunner.query(
      'ALTER TABLE "rotation_policies" DROP COLUMN "end_grace_on_full_adoption"',
    );
  }
}
