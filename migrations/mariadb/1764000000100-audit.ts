import { MigrationInterface, QueryRunner } from 'typeorm';

const APPEND_ONLY = ['audit_events', 'audit_checkpoints'];

export class Audit1764000000100 implements MigrationInterface {
  name = 'Audit1764000000100';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE `audit_events` (' +
        '`seq` bigint NOT NULL AUTO_INCREMENT, ' +
        '`lane` smallint NOT NULL, ' +
        '`lane_seq` bigint NOT NULL, ' +
        '`occurred_at` datetime(3) NOT NULL, ' +
        '`actor_type` varchar(16) NOT NULL, ' +
        '`actor_id` varchar(64) NULL, ' +
        '`actor_display` varchar(255) NULL, ' +
        '`ip` varchar(64) NULL, ' +
        '`user_agent` varchar(512) NULL, ' +
        '`request_id` varchar(128) NULL, ' +
        '`action` varchar(128) NOT NULL, ' +
        '`resource_type` varchar(64) NULL, ' +
        '`resource_id` varchar(191) NULL, ' +
        '`outcome` varchar(16) NOT NULL, ' +
        '`http_status` smallint NULL, ' +
        '`details` text NOT NULL, ' +
        '`key_id` varchar(32) NOT NULL, ' +
        '`prev_hash` varchar(64) NULL, ' +
        '`hash` varchar(64) NOT NULL, ' +
        'INDEX `idx_audit_events_resource` (`resource_type`, `resource_id`), ' +
        'INDEX `idx_audit_events_actor` (`actor_id`), ' +
        'INDEX `idx_audit_events_action` (`action`), ' +
        'INDEX `idx_audit_events_occurred_at` (`occurred_at`), ' +
        'UNIQUE INDEX `uq_audit_events_lane_seq` (`lane`, `lane_seq`), ' +
        'PRIMARY KEY (`seq`)' +
        ') ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci',
    );
    await queryRunner.query(
      'CREATE TABLE `audit_chain_heads` (' +
        '`lane` smallint NOT NULL, ' +
        "`last_lane_seq` bigint NOT NULL DEFAULT '0', " +
        '`last_seq` bigint NULL, ' +
        '`last_hash` varchar(64) NULL, ' +
        'PRIMARY KEY (`lane`)' +
        ') ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci',
    );
    await queryRunner.query(
      'CREATE TABLE `audit_checkpoints` (' +
        '`id` bigint NOT NULL AUTO_INCREMENT, ' +
        '`created_at` datetime(3) NOT NULL, ' +
        '`head_seq` bigint NULL, ' +
        '`lanes` text NOT NULL, ' +
        '`key_id` varchar(32) NOT NULL, ' +
        '`signature` varchar(64) NOT NULL, ' +
        'PRIMARY KEY (`id`)' +
        ') ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci',
    );
    await queryRunner.query(
      'CREATE TABLE `outbox` (' +
        '`id` bigint NOT NULL AUTO_INCREMENT, ' +
        '`sink` varchar(32) NOT NULL, ' +
        '`topic` varchar(64) NOT NULL, ' +
        '`payload` text NOT NULL, ' +
        "`attempts` int NOT NULL DEFAULT '0', " +
        '`next_attempt_at` datetime(3) NULL, ' +
        '`last_error` varchar(512) NULL, ' +
        '`created_at` datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), ' +
        'INDEX `idx_outbox_sink_id` (`sink`, `id`), ' +
        'PRIMARY KEY (`id`)' +
        ') ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci',
    );
    // Append-only, enforced by the database itself and not only by the application.
    for (const table of APPEND_ONLY) {
      for (const operation of ['UPDATE', 'DELETE']) {
        await queryRunner.query(
          `CREATE TRIGGER \`${table}_no_${operation.toLowerCase()}\` BEFORE ${operation} ON \`${table}\` ` +
            `FOR EACH ROW SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '${table} is append-only'`,
        );
      }
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of APPEND_ONLY) {
      for (const operation of ['update', 'delete']) {
        await queryRunner.query(`DROP TRIGGER IF EXISTS \`${table}_no_${operation}\``);
      }
    }
    await queryRunner.query('DROP TABLE `outbox`');
    await queryRunner.query('DROP TABLE `audit_checkpoints`');
    await queryRunner.query('DROP TABLE `audit_chain_heads`');
    await queryRunner.query('DROP TABLE `audit_events`');
  }
}
