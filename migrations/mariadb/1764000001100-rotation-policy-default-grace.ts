import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A policy may leave its grace period to the default of each credential's type (a path-pattern
 * policy governs credentials of several types), so the column becomes nullable.
 */
export class RotationPolicyDefaultGrace1764000001100 implements MigrationInterface {
  name = 'RotationPolicyDefaultGrace1764000001100';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'ALTER TABLE `rotation_policies` MODIFY `grace_period` varchar(32) NULL',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // The built-in default of most types; the column had no room for "the type's default".
    await queryRunner.query(
      "UPDATE `rotation_policies` SET `grace_period` = 'PT24H' WHERE `grace_period` IS NULL",
    );
    await queryRunner.query(
      'ALTER TABLE `rotation_policies` MODIFY `grace_period` varchar(32) NOT NULL',
    );
  }
}
