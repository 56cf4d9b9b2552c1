import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What the incident detectors and the blast radius read: the index that finds one principal's
 * reveals (or failed logins) in a time range without reading its whole history, and one cursor
 * row per detector, so that each reads the audit log from where the last pass stopped.
 */
export class IncidentDetectors1764000001800 implements MigrationInterface {
  name = 'IncidentDetectors1764000001800';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE INDEX "idx_audit_events_actor_action_time" ON "audit_events" ' +
        '("actor_id", "action", "occurred_at")',
    );
    await queryRunner.query(
      'CREATE TABLE "incident_detector_cursors" ("detector" varchar(64) PRIMARY KEY NOT NULL, ' +
        '"last_seq" bigint NOT NULL DEFAULT (0), "ran_at" datetime(3))',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE "incident_detector_cursors"');
    await queryRunner.query('DROP INDEX "idx_audit_events_actor_action_time"');
  }
}
