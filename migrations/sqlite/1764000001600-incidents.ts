import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Security incidents (issue 12): the incident with its workflow times and dedupe slot (unique
 * while it is the one open incident of its dedupe key), the credentials and principals it links,
 * and its timeline, each entry pointing at the audit event written with it.
 */
export class Incidents1764000001600 implements MigrationInterface {
  name = 'Incidents1764000001600';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "incidents" ("id" varchar(36) PRIMARY KEY NOT NULL, "type" varchar(32) NOT NULL, "severity" varchar(16) NOT NULL, "status" varchar(16) NOT NULL, "title" varchar(200) NOT NULL, "description" text, "findings" text, "remediation" text, "affected" varchar(500), "assignee_id" varchar(36), "detected_at" datetime(3) NOT NULL, "contained_at" datetime(3), "resolved_at" datetime(3), "dedupe_key" varchar(191), "dedupe_slot" varchar(191), "freeze_reveals" boolean NOT NULL DEFAULT (0), "created_by" varchar(64), "created_at" datetime(3) NOT NULL, "updated_at" datetime(3) NOT NULL, "row_version" integer NOT NULL)',
    );
    await queryRunner.query(
      'CREATE INDEX "idx_incidents_status_detected" ON "incidents" ("status", "detected_at")',
    );
    await queryRunner.query(
      'CREATE INDEX "idx_incidents_detected" ON "incidents" ("detected_at")',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "uq_incidents_dedupe_slot" ON "incidents" ("dedupe_slot")',
    );
    await queryRunner.query(
      'CREATE TABLE "incident_credentials" ("incident_id" varchar(36) NOT NULL, "credential_id" varchar(36) NOT NULL, "linked_at" datetime(3) NOT NULL, "linked_by" varchar(64), PRIMARY KEY ("incident_id", "credential_id"))',
    );
    await queryRunner.query(
      'CREATE INDEX "idx_incident_credentials_credential" ON "incident_credentials" ("credential_id")',
    );
    await queryRunner.query(
      'CREATE TABLE "incident_principals" ("incident_id" varchar(36) NOT NULL, "principal_type" varchar(16) NOT NULL, "principal_id" varchar(36) NOT NULL, "linked_at" datetime(3) NOT NULL, "linked_by" varchar(64), PRIMARY KEY ("incident_id", "principal_type", "principal_id"))',
    );
    await queryRunner.query(
      'CREATE INDEX "idx_incident_principals_principal" ON "incident_principals" ("principal_type", "principal_id")',
    );
    await queryRunner.query(
      'CREATE TABLE "incident_timeline" ("id" varchar(36) PRIMARY KEY NOT NULL, "incident_id" varchar(36) NOT NULL, "seq" integer NOT NULL, "kind" varchar(16) NOT NULL, "actor_type" varchar(16) NOT NULL, "actor_id" varchar(64), "actor_display" varchar(255), "text" varchar(4000), "details" text NOT NULL, "audit_seq" bigint NOT NULL, "occurred_at" datetime(3) NOT NULL)',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "uq_incident_timeline_seq" ON "incident_timeline" ("incident_id", "seq")',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX "uq_incident_timeline_seq"');
    await queryRunner.query('DROP TABLE "incident_timeline"');
    await queryRunner.query('DROP INDEX "idx_incident_principals_principal"');
    await queryRunner.query('DROP TABLE "incident_principals"');
    await queryRunner.query('DROP INDEX "idx_incident_credentials_credential"');
    await queryRunner.query('DROP TABLE "incident_credentials"');
    await queryRunner.query('DROP INDEX "uq_incidents_dedupe_slot"');
    await queryRunner.query('DROP INDEX "idx_incidents_detected"');
    await queryRunner.query('DROP INDEX "idx_incidents_status_detected"');
    await queryRunner.query('DROP TABLE "incidents"');
  }
}
