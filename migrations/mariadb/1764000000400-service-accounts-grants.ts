import { MigrationInterface, QueryRunner } from 'typeorm';

export class ServiceAccountsGrants1764000000400 implements MigrationInterface {
  name = 'ServiceAccountsGrants1764000000400';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE `service_accounts` (`id` varchar(36) NOT NULL, `name` varchar(100) NOT NULL, `description` varchar(500) NULL, `status` varchar(16) NOT NULL, `created_at` datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), `updated_at` datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6), UNIQUE INDEX `uq_service_accounts_name` (`name`), PRIMARY KEY (`id`)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci',
    );
    await queryRunner.query(
      'CREATE TABLE `api_keys` (`id` varchar(32) NOT NULL, `service_account_id` varchar(36) NOT NULL, `secret_hash` varchar(64) NOT NULL, `label` varchar(100) NULL, `expires_at` datetime(3) NULL, `revoked_at` datetime(3) NULL, `last_used_at` datetime(3) NULL, `created_at` datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), INDEX `idx_api_keys_service_account` (`service_account_id`), PRIMARY KEY (`id`)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci',
    );
    await queryRunner.query(
      'CREATE TABLE `access_grants` (`id` varchar(36) NOT NULL, `principal_type` varchar(16) NOT NULL, `principal_id` varchar(36) NOT NULL, `path_pattern` varchar(255) NOT NULL, `capabilities` varchar(64) NOT NULL, `created_by` varchar(36) NULL, `created_at` datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), INDEX `idx_access_grants_principal` (`principal_type`, `principal_id`), PRIMARY KEY (`id`)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE `access_grants`');
    await queryRunner.query('DROP TABLE `api_keys`');
    await queryRunner.query('DROP TABLE `service_accounts`');
  }
}
