import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Leak-scan fingerprints get a table of their own: a version may have several (every value of a
 * `kv` secret, an SSH key's passphrase), each with its value's length so that a scan can look at
 * substrings of exactly the stored lengths. The one fingerprint each version had is carried over
 * without a length (it cannot be known without decrypting); re-wrapping fills it in.
 */
export class CredentialFingerprints1764000002000 implements MigrationInterface {
  name = 'CredentialFingerprints1764000002000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "credential_fingerprints" ("credential_id" varchar(36) NOT NULL, ' +
        '"version" integer NOT NULL, "fingerprint" varchar(64) NOT NULL, "value_length" integer, ' +
        'PRIMARY KEY ("credential_id", "version", "fingerprint"))',
    );
    await queryRunner.query(
      'CREATE INDEX "idx_credential_fingerprints_fingerprint" ON "credential_fingerprints" ("fingerprint")',
    );
    await queryRunner.query(
      'CREATE INDEX "idx_credential_fingerprints_length" ON "credential_fingerprints" ("value_length")',
    );
    await queryRunner.query(
      'INSERT INTO "credential_fingerprints" ("credential_id", "version", "fingerprint", "value_length") ' +
        'SELECT "credential_id", "version", "fingerprint", NULL FROM "credential_versions" ' +
        'WHERE "fingerprint" IS NOT NULL',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX "idx_credential_fingerprints_length"');
    await queryRunner.query('DROP INDEX "idx_credential_fingerprints_fingerprint"');
    await queryRunner.query('DROP TABLE "credential_fingerprints"');
  }
}
