import { MigrationInterface, QueryRunner } from 'typeorm';

const TABLE_OPTIONS = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci';

/**
 * Security incidents (issue 12): the incident with its workflow times and dedupe slot (unique
 * while it is the one open incident of its dedupe key), the credentials and principals it links,
 * and its timeline, each entry pointing at the audit event written with it.
 */
export class Incidents1764000001600 implements MigrationInterface {
  name = 'Incidents1764000001600';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      "CREATE TABLE `incidents` (`id` varchar(36) NOT NULL, `type` varchar(32) NOT NULL, `severity` varchar(16) NOT NULL, `status` varchar(16) NOT NULL, `title` varchar(200) NOT NULL, `description` text NULL, `findings` text NULL, `remediation` text NULL, `affected` varchar(500) NULL, `assignee_id` varchar(36) NULL, `detected_at` datetime(3) NOT NULL, `contained_at` datetime(3) NULL, `resolved_at` datetime(3) NULL, `dedupe_key` varchar(191) NULL, `dedupe_slot` varchar(191) NULL, `freeze_reveals` tinyint NOT NULL DEFAULT 0, `created_by` varchar(64) NULL, `created_at` datetime(3) NOT NULL, `updated_at` datetime(3) NOT NULL, `row_version` int NOT NULL, INDEX `idx_incidents_status_detected` (`status`, `detected_at`), INDEX `idx_incidents_detected` (`detected_at`), UNIQUE INDEX `uq_incidents_dedupe_slot` (`dedupe_slot`), PRIMARY KEY (`id`)) " + TABLE_OPTIONS,
    );
    await queryRunner.query(
      "CREATE TABLE `incident_credentials` (`incident_id` varchar(36) NOT NULL, `credential_id` varchar(36) NOT NULL, `linked_at` datetime(3) NOT NULL, `linked_by` varchar(64) NULL, INDEX `idx_incident_credentials_credential` (`credential_id`), PRIMARY KEY (`incident_id`, `credential_id`)) " + TABLE_OPTIONS,
    );
    await queryRunner.query(
      "CREATE TABLE `incident_principals` (`incident_id` varchar(36) NOT NULL, `principal_type` varchar(16) NOT NULL, `principal_id` varchar(36) NOT NULL, `linked_at` datetime(3) NOT NULL, `linked_by` varchar(64) NULL, INDEX `idx_incident_principals_principal` (`principal_type`, `principal_id`), PRIMARY KEY (`incident_id`, `principal_type`, `principal_id`)) " + TABLE_OPTIONS,
    );
    await queryRunner.query(
      "CREATE TABLE `incident_timeline` (`id` varchar(36) NOT NULL, `incident_id` varchar(36) NOT NULL, `seq` int NOT NULL, `kind` varchar(16) NOT NULL, `actor_type` varchar(16) NOT NULL, `actor_id` varchar(64) NULL, `actor_display` varchar(255) NULL, `text` varchar(4000) NULL, `details` text NOT NULL, `audit_seq` bigint NOT NULL, `occurred_at` datetime(3) NOT NULL, UNIQUE INDEX `uq_incident_timeline_seq` (`incident_id`, `seq`), PRIMARY KEY (`id`)) " + TABLE_OPTIONS,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE `incident_timeline`');
    await queryRunner.query('DROP TABLE `incident_principals`');
    await queryRunner.query('DROP TABLE `incident_credentials`');
    await queryRunner.query('DROP TABLE `incidents`');
  }
}
