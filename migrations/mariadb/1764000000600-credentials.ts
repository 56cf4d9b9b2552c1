import { MigrationInterface, QueryRunner } from 'typeorm';

export class Credentials1764000000600 implements MigrationInterface {
  name = 'Credentials1764000000600';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE `credentials` (`id` varchar(36) NOT NULL, `path` varchar(255) NOT NULL, `name` varchar(200) NOT NULL, `type` varchar(32) NOT NULL, `description` varchar(2000) NULL, `username` varchar(255) NULL, `url` varchar(2048) NULL, `host` varchar(255) NULL, `port` int NULL, `owner` varchar(255) NULL, `metadata` text NULL, `secret_info` text NULL, `tags` varchar(1100) NOT NULL DEFAULT \'\', `expires_at` datetime(3) NULL, `status` varchar(16) NOT NULL, `current_version` int NOT NULL, `last_version` int NOT NULL, `row_version` int NOT NULL DEFAULT \'1\', `created_by` varchar(36) NULL, `created_at` datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), `updated_at` datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6), `deleted_at` datetime(3) NULL, `destroyed_at` datetime(3) NULL, INDEX `idx_credentials_expires_at` (`expires_at`), INDEX `idx_credentials_status_path` (`status`, `path`), UNIQUE INDEX `uq_credentials_path` (`path`), PRIMARY KEY (`id`)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci',
    );
    await queryRunner.query(
      'CREATE TABLE `credential_tags` (`credential_id` varchar(36) NOT NULL, `tag` varchar(64) NOT NULL, INDEX `idx_credential_tags_tag` (`tag`, `credential_id`), PRIMARY KEY (`credential_id`, `tag`)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci',
    );
    await queryRunner.query(
      'CREATE TABLE `credential_versions` (`credential_id` varchar(36) NOT NULL, `version` int NOT NULL, `state` varchar(16) NOT NULL, `ciphertext` blob NULL, `iv` varchar(16) NULL, `tag` varchar(24) NULL, `wrapped_dek` varchar(80) NULL, `kek_id` varchar(32) NULL, `fingerprint` varchar(64) NULL, `grace_until` datetime(3) NULL, `revoked_at` datetime(3) NULL, `destroyed_at` datetime(3) NULL, `created_by` varchar(36) NULL, `created_at` datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), INDEX `idx_credential_versions_kek` (`kek_id`), PRIMARY KEY (`credential_id`, `version`)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE `credential_versions`');
    await queryRunner.query('DROP TABLE `credential_tags`');
    await queryRunner.query('DROP TABLE `credentials`');
  }
}
