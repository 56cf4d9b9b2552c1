import { MigrationInterface, QueryRunner } from 'typeorm';

export class TotpLastStep1764000000500 implements MigrationInterface {
  name = 'TotpLastStep1764000000500';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "users" ADD COLUMN "mfa_last_step" bigint');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "users" DROP COLUMN "mfa_last_step"');
  }
}
