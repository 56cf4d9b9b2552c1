import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Retiring accounts of versions that left service (the mariadb rotator locks the user of an
 * alternating pair whose version was revoked): which account a version belongs to, when it was
 * retired, and the claim and backoff of the job that retires it; the index finds the versions
 * still due among the many that have no account. Runs get notes from their rotator (a
 * single-user rotation says that the old password stopped at once).
 */
export class VersionRetirement1764000001300 implements MigrationInterface {
  name = 'VersionRetirement1764000001300';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'ALTER TABLE `credential_versions` ADD `account` varchar(255) NULL, ' +
        'ADD `retired_at` datetime(3) NULL, ADD `retire_claim` varchar(36) NULL, ' +
        'ADD `retire_after` datetime(3) NULL, ADD `retire_failures` int NOT NULL DEFAULT 0, ' +
        'ADD INDEX `idx_credential_versions_retire` (`retired_at`, `account`)',
    );
    await queryRunner.query('ALTER TABLE `rotation_runs` ADD `notes` varchar(500) NULL');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE `rotation_runs` DROP COLUMN `notes`');
    await queryRunner.query(
      'ALTER TABLE `credential_versions` DROP INDEX `idx_credential_versions_retire`, ' +
        'DROP COLUMN `retire_failures`, DROP COLUMN `retire_after`, DROP COLUMN `retire_claim`, ' +
        'DROP COLUMN `retired_at`, DROP COLUMN `account`',
    );
  }
}
