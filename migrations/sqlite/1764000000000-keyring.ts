import { MigrationInterface, QueryRunner } from 'typeorm';

export class Keyring1764000000000 implements MigrationInterface {
  name = 'Keyring1764000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "keyring" (' +
        '"id" varchar(32) PRIMARY KEY NOT NULL, ' +
        '"status" varchar(16) NOT NULL, ' +
        '"check_value" varchar(64) NOT NULL, ' +
        '"created_at" datetime NOT NULL DEFAULT (datetime(\'now\'))' +
        ')',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE "keyring"');
  }
}
