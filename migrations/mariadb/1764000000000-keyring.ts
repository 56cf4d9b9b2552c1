import { MigrationInterface, QueryRunner } from 'typeorm';

export class Keyring1764000000000 implements MigrationInterface {
  name = 'Keyring1764000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE `keyring` (' +
        '`id` varchar(32) NOT NULL, ' +
        '`status` varchar(16) NOT NULL, ' +
        '`check_value` varchar(64) NOT NULL, ' +
        '`created_at` datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), ' +
        'PRIMARY KEY (`id`)' +
        ') ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE `keyring`');
  }
}
