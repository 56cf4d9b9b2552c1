import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Lists the versions whose leak-scan fingerprints are incomplete, for the background backfill:
 * every version whose value is still held (a wrapped data key) with a fingerprint row of unknown
 * length (carried over by 1764000002000: only the longest value of a `kv` secret, and no length
 * for the substring search) or with no row at all, and every version of a `connection_string`
 * (whose password is now looked for on its own too). New versions and re-wrapped ones have
 * complete rows from the start, so nothing is ever added to the list after this.
 */
export class CredentialFingerprintBackfill1764000002200 implements MigrationInterface {
  name = 'CredentialFingerprintBackfill1764000002200';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE `credential_fingerprint_backfill` (`credential_id` varchar(36) NOT NULL, ' +
        '`version` int NOT NULL, PRIMARY KEY (`credential_id`, `version`)) ' +
        'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci',
    );
    await queryRunner.query(
      'INSERT INTO `credential_fingerprint_backfill` (`credential_id`, `version`) ' +
        'SELECT v.`credential_id`, v.`version` FROM `credential_versions` v ' +
        'WHERE v.`wrapped_dek` IS NOT NULL AND (EXISTS (SELECT 1 FROM `credential_fingerprints` f ' +
        'WHERE f.`credential_id` = v.`credential_id` AND f.`version` = v.`version` ' +
        'AND f.`value_length` IS NULL) OR NOT EXISTS (SELECT 1 FROM `credential_fingerprints` f ' +
        'WHERE f.`credential_id` = v.`credential_id` AND f.`version` = v.`version`) ' +
        "OR v.`credential_id` IN (SELECT `id` FROM `credentials` WHERE `type` = 'connection_string'))",
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE `credential_fingerprint_backfill`');
  }
}
