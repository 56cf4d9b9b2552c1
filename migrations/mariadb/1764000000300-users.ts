import { MigrationInterface, QueryRunner } from 'typeorm';

export class Users1764000000300 implements MigrationInterface {
  name = 'Users1764000000300';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE `users` (' +
        '`id` varchar(36) NOT NULL, ' +
        '`email` varchar(254) NOT NULL, ' +
        '`password_hash` varchar(255) NOT NULL, ' +
        '`role` varchar(16) NOT NULL, ' +
        '`status` varchar(16) NOT NULL, ' +
        "`failed_logins` int NOT NULL DEFAULT '0', " +
        '`locked_until` datetime(3) NULL, ' +
        '`must_change_password` tinyint NOT NULL DEFAULT 0, ' +
        "`token_version` int NOT NULL DEFAULT '0', " +
        '`mfa_secret` varchar(255) NULL, ' +
        '`mfa_enabled` tinyint NOT NULL DEFAULT 0, ' +
        '`created_at` datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), ' +
        '`updated_at` datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6), ' +
        'UNIQUE INDEX `uq_users_email` (`email`), ' +
        'PRIMARY KEY (`id`)' +
        ') ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci',
    );
    await queryRunner.query(
      'CREATE TABLE `refresh_tokens` (' +
        '`id` varchar(36) NOT NULL, ' +
        '`user_id` varchar(36) NOT NULL, ' +
        '`family_id` varchar(36) NOT NULL, ' +
        '`token_hash` varchar(64) NOT NULL, ' +
        '`expires_at` datetime(3) NOT NULL, ' +
        '`revoked_at` datetime(3) NULL, ' +
        '`replaced_by` varchar(36) NULL, ' +
        '`created_at` datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), ' +
        'INDEX `idx_refresh_tokens_family` (`family_id`), ' +
        'INDEX `idx_refresh_tokens_user` (`user_id`), ' +
        'UNIQUE INDEX `uq_refresh_tokens_hash` (`token_hash`), ' +
        'PRIMARY KEY (`id`)' +
        ') ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE `refresh_tokens`');
    await queryRunner.query('DROP TABLE `users`');
  }
}
