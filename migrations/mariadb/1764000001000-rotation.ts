import { MigrationInterface, QueryRunner } from 'typeorm';

const TABLE_OPTIONS = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci';

/**
 * Rotation: policies, persisted runs, the general event outbox, and the database's own guard of
 * the version states. TypeORM does not manage CHECK constraints on MariaDB, so they are here
 * only; each repeats the expression its entity gives SQLite.
 */
export class Rotation1764000001000 implements MigrationInterface {
  name = 'Rotation1764000001000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'ALTER TABLE `credential_versions` ADD `live_state` varchar(8) NULL, ' +
        'ADD INDEX `idx_credential_versions_state_grace` (`state`, `grace_until`), ' +
        'ADD INDEX `idx_credential_versions_state_revoked` (`state`, `revoked_at`)',
    );
    await queryRunner.query(
      "UPDATE `credential_versions` SET `live_state` = `state` WHERE `state` IN ('current', 'pending')",
    );
    await queryRunner.query(
      'ALTER TABLE `credential_versions` ' +
        'ADD UNIQUE INDEX `uq_credential_versions_live` (`credential_id`, `live_state`), ' +
        'ADD CONSTRAINT `chk_credential_versions_live` CHECK (' +
        "(`state` IN ('current', 'pending') AND `live_state` = `state`) OR " +
        "(`state` NOT IN ('current', 'pending') AND `live_state` IS NULL))",
    );
    await queryRunner.query(
      'ALTER TABLE `credentials` ADD `next_rotation_at` datetime(3) NULL, ' +
        "ADD `rotation_status` varchar(16) NOT NULL DEFAULT 'none', " +
        'ADD `expiry_warned_for` datetime(3) NULL, ' +
        'ADD INDEX `idx_credentials_next_rotation` (`next_rotation_at`)',
    );
    await queryRunner.query(
      'CREATE TABLE `rotation_policies` (`id` varchar(36) NOT NULL, `credential_id` varchar(36) NULL, `path_pattern` varchar(255) NULL, `enabled` tinyint NOT NULL, `rotate_every` varchar(32) NULL, `schedule` varchar(120) NULL, `rotation_window` text NULL, `grace_period` varchar(32) NOT NULL, `schedule_offset` varchar(32) NULL, `rotator` text NOT NULL, `generator` text NULL, `created_by` varchar(36) NULL, `created_at` datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), `updated_at` datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6), ' +
        'UNIQUE INDEX `uq_rotation_policies_pattern` (`path_pattern`), UNIQUE INDEX `uq_rotation_policies_credential` (`credential_id`), PRIMARY KEY (`id`), ' +
        'CONSTRAINT `chk_rotation_policies_target` CHECK ((`credential_id` IS NULL) <> (`path_pattern` IS NULL))) ' +
        TABLE_OPTIONS,
    );
    await queryRunner.query(
      'CREATE TABLE `rotation_runs` (`id` varchar(36) NOT NULL, `credential_id` varchar(36) NOT NULL, `rotator` varchar(32) NOT NULL, `pending_version` int NULL, `step` varchar(16) NOT NULL, `status` varchar(16) NOT NULL, `open_slot` varchar(8) NULL, `attempt` int NOT NULL, `max_attempts` int NOT NULL, `triggered_by` varchar(16) NOT NULL, `emergency` tinyint NOT NULL DEFAULT 0, `grace_seconds` int NOT NULL, `reason` varchar(500) NULL, `error` varchar(1000) NULL, `claimed_by` varchar(128) NULL, `claim_expires_at` datetime(3) NULL, `next_attempt_at` datetime(3) NOT NULL, `overdue_at` datetime(3) NULL, `requested_by` varchar(36) NULL, `started_at` datetime(3) NOT NULL, `updated_at` datetime(3) NOT NULL, `finished_at` datetime(3) NULL, ' +
        'INDEX `idx_rotation_runs_started` (`started_at`), INDEX `idx_rotation_runs_status_next` (`status`, `next_attempt_at`), INDEX `idx_rotation_runs_credential` (`credential_id`, `started_at`), UNIQUE INDEX `uq_rotation_runs_open` (`credential_id`, `open_slot`), PRIMARY KEY (`id`), ' +
        "CONSTRAINT `chk_rotation_runs_open` CHECK ((`status` IN ('running', 'waiting') AND `open_slot` = 'open') OR (`status` NOT IN ('running', 'waiting') AND `open_slot` IS NULL))) " +
        TABLE_OPTIONS,
    );
    await queryRunner.query(
      'CREATE TABLE `event_outbox` (`seq` bigint NOT NULL AUTO_INCREMENT, `type` varchar(64) NOT NULL, `resource_type` varchar(32) NOT NULL, `resource_id` varchar(36) NOT NULL, `path` varchar(255) NULL, `payload` text NOT NULL, `created_at` datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), ' +
        'INDEX `idx_event_outbox_resource_seq` (`resource_id`, `seq`), INDEX `idx_event_outbox_type_seq` (`type`, `seq`), PRIMARY KEY (`seq`)) ' +
        TABLE_OPTIONS,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE `event_outbox`');
    await queryRunner.query('DROP TABLE `rotation_runs`');
    await queryRunner.query('DROP TABLE `rotation_policies`');
    await queryRunner.query(
      'ALTER TABLE `credentials` DROP INDEX `idx_credentials_next_rotation`, ' +
        'DROP COLUMN `expiry_warned_for`, DROP COLUMN `rotation_status`, DROP COLUMN `next_rotation_at`',
    );
    await queryRunner.query(
      'ALTER TABLE `credential_versions` DROP CONSTRAINT `chk_credential_versions_live`, ' +
        'DROP INDEX `uq_credential_versions_live`, ' +
        'DROP INDEX `idx_credential_versions_state_revoked`, ' +
        'DROP INDEX `idx_credential_versions_state_grace`, DROP COLUMN `live_state`',
    );
  }
}
