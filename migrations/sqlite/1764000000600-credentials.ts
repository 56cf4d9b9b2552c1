import { MigrationInterface, QueryRunner } from 'typeorm';

export class Credentials1764000000600 implements MigrationInterface {
  name = 'Credentials1764000000600';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "credentials" ("id" varchar(36) PRIMARY KEY NOT NULL, "path" varchar(255) NOT NULL, "name" varchar(200) NOT NULL, "type" varchar(32) NOT NULL, "description" varchar(2000), "username" varchar(255), "url" varchar(2048), "host" varchar(255), "port" integer, "owner" varchar(255), "metadata" text, "secret_info" text, "tags" varchar(1100) NOT NULL DEFAULT (\'\'), "expires_at" datetime(3), "status" varchar(16) NOT NULL, "current_version" integer NOT NULL, "last_version" integer NOT NULL, "row_version" integer NOT NULL DEFAULT (1), "created_by" varchar(36), "created_at" datetime NOT NULL DEFAULT (datetime(\'now\')), "updated_at" datetime NOT NULL DEFAULT (datetime(\'now\')), "deleted_at" datetime(3), "destroyed_at" datetime(3))',
    );
    await queryRunner.query(
      'CREATE INDEX "idx_credentials_expires_at" ON "credentials" ("expires_at")',
    );
    await queryRunner.query(
      'CREATE INDEX "idx_credentials_status_path" ON "credentials" ("status", "path")',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "uq_credentials_path" ON "credentials" ("path")',
    );
    await queryRunner.query(
      'CREATE TABLE "credential_tags" ("credential_id" varchar(36) NOT NULL, "tag" varchar(64) NOT NULL, PRIMARY KEY ("credential_id", "tag"))',
    );
    await queryRunner.query(
      'CREATE INDEX "idx_credential_tags_tag" ON "credential_tags" ("tag", "credential_id")',
    );
    await queryRunner.query(
      'CREATE TABLE "credential_versions" ("credential_id" varchar(36) NOT NULL, "version" integer NOT NULL, "state" varchar(16) NOT NULL, "ciphertext" blob, "iv" varchar(16), "tag" varchar(24), "wrapped_dek" varchar(80), "kek_id" varchar(32), "fingerprint" varchar(64), "grace_until" datetime(3), "revoked_at" datetime(3), "destroyed_at" datetime(3), "created_by" varchar(36), "created_at" datetime NOT NULL DEFAULT (datetime(\'now\')), PRIMARY KEY ("credential_id", "version"))',
    );
    await queryRunner.query(
      'CREATE INDEX "idx_credential_versions_kek" ON "credential_versions" ("kek_id")',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE "credential_versions"');
    await queryRunner.query('DROP TABLE "credential_tags"');
    await queryRunner.query('DROP TABLE "credentials"');
  }
}
