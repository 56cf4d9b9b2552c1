import { MigrationInterface, QueryRunner } from 'typeorm';

export class Users1764000000300 implements MigrationInterface {
  name = 'Users1764000000300';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "users" (' +
        '"id" varchar(36) PRIMARY KEY NOT NULL, ' +
        '"email" varchar(254) NOT NULL, ' +
        '"password_hash" varchar(255) NOT NULL, ' +
        '"role" varchar(16) NOT NULL, ' +
        '"status" varchar(16) NOT NULL, ' +
        '"failed_logins" integer NOT NULL DEFAULT (0), ' +
        '"locked_until" datetime(3), ' +
        '"must_change_password" boolean NOT NULL DEFAULT (0), ' +
        '"token_version" integer NOT NULL DEFAULT (0), ' +
        '"mfa_secret" varchar(255), ' +
        '"mfa_enabled" boolean NOT NULL DEFAULT (0), ' +
        '"created_at" datetime NOT NULL DEFAULT (datetime(\'now\')), ' +
        '"updated_at" datetime NOT NULL DEFAULT (datetime(\'now\'))' +
        ')',
    );
    await queryRunner.query('CREATE UNIQUE INDEX "uq_users_email" ON "users" ("email")');
    await queryRunner.query(
      'CREATE TABLE "refresh_tokens" (' +
        '"id" varchar(36) PRIMARY KEY NOT NULL, ' +
        '"user_id" varchar(36) NOT NULL, ' +
        '"family_id" varchar(36) NOT NULL, ' +
        '"token_hash" varchar(64) NOT NULL, ' +
        '"expires_at" datetime(3) NOT NULL, ' +
        '"revoked_at" datetime(3), ' +
        '"replaced_by" varchar(36), ' +
        '"created_at" datetime NOT NULL DEFAULT (datetime(\'now\'))' +
        ')',
    );
    await queryRunner.query(
      'CREATE INDEX "idx_refresh_tokens_family" ON "refresh_tokens" ("family_id")',
    );
    await queryRunner.query(
      'CREATE INDEX "idx_refresh_tokens_user" ON "refresh_tokens" ("user_id")',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "uq_refresh_tokens_hash" ON "refresh_tokens" ("token_hash")',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE "refresh_tokens"');
    await queryRunner.query('DROP TABLE "users"');
  }
}
