import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Leak scanning and decoys: a leak scan looks up many fingerprints at once, so they get an index;
 * `credentials.decoy` marks a credential planted to catch whoever reveals it.
 */
export class LeakScan1764000001700 implements MigrationInterface {
  name = 'LeakScan1764000001700';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE INDEX "idx_credential_versions_fingerprint" ON "credential_versions" ("fingerprint")',
    );
    await queryRunner.query(
      'ALTER TABLE "credentials" ADD COLUMN "decoy" boolean NOT NULL DEFAULT (0)',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "credentials" DROP COLUMN "decoy"');
    await queryRunner.query('DROP INDEX "idx_credential_versions_fingerprint"');
  }
}
