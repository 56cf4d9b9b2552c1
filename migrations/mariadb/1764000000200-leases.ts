import { MigrationInterface, QueryRunner } from 'typeorm';

export class Leases1764000000200 implements MigrationInterface {
  name = 'Leases1764000000200';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE `leases` (' +
        '`name` varchar(128) NOT NULL, ' +
        '`holder` varchar(128) NOT NULL, ' +
        '`expires_at` datetime(3) NOT NULL, ' +
        'PRIMARY KEY (`name`)' +
        ') ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE `leases`');
  }
}
