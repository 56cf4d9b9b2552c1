import { MigrationInterface, QueryRunner } from 'typeorm';

export class ServiceAccountsGrants1764000000400 implements MigrationInterface {
  name = 'ServiceAccountsGrants1764000000400';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "service_accounts" ("id" varchar(36) PRIMARY KEY NOT NULL, "name" varchar(100) NOT NULL, "description" varchar(500), "status" varchar(16) NOT NULL, "created_at" datetime NOT NULL DEFAULT (datetime(\'now\')), "updated_at" datetime NOT NULL DEFAULT (datetime(\'now\')))',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "uq_service_accounts_name" ON "service_accounts" ("name")',
    );
    await queryRunner.query(
      'CREATE TABLE "api_keys" ("id" varchar(32) PRIMARY KEY NOT NULL, "service_account_id" varchar(36) NOT NULL, "secret_hash" varchar(64) NOT NULL, "label" varchar(100), "expires_at" datetime(3), "revoked_at" datetime(3), "last_used_at" datetime(3), "created_at" datetime NOT NULL DEFAULT (datetime(\'now\')))',
    );
    await queryRunner.query(
      'CREATE INDEX "idx_api_keys_service_account" ON "api_keys" ("service_account_id")',
    );
    await queryRunner.query(
      'CREATE TABLE "access_grants" ("id" varchar(36) PRIMARY KEY NOT NULL, "principal_type" varchar(16) NOT NULL, "principal_id" varchar(36) NOT NULL, "path_pattern" varchar(255) NOT NULL, "capabilities" varchar(64) NOT NULL, "created_by" varchar(36), "created_at" datetime NOT NULL DEFAULT (datetime(\'now\')))',
    );
    await queryRunner.query(
      'CREATE INDEX "idx_access_grants_principal" ON "access_grants" ("principal_type", "principal_id")',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE "access_grants"');
    await queryRunner.query('DROP TABLE "api_keys"');
    await queryRunner.query('DROP TABLE "service_accounts"');
  }
}
