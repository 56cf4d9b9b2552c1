import { MigrationInterface, QueryRunner } from 'typeorm';

export class Leases1764000000200 implements MigrationInterface {
  name = 'Leases1764000000200';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "leases" (' +
        '"name" varchar(128) PRIMARY KEY NOT NULL, ' +
        '"holder" varchar(128) NOT NULL, ' +
        '"expires_at" datetime(3) NOT NULL' +
        ')',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE "leases"');
  }
}
