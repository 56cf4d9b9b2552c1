import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Heads may only move forward: a deleted or rewound head would hide events cut from the end of
 * a lane. Checkpoints get Ed25519 signatures (64 bytes, base64) and say which algorithm signed
 * them; rows from before keep their HMAC and are marked so.
 */
export class AuditHeadsGuardEd25519Checkpoints1764000000700 implements MigrationInterface {
  name = 'AuditHeadsGuardEd25519Checkpoints1764000000700';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TRIGGER `audit_chain_heads_no_delete` BEFORE DELETE ON `audit_chain_heads` ' +
        "FOR EACH ROW SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'audit_chain_heads rows cannot be deleted'",
    );
    // The writer only ever moves a head to a later event of the same lane; an unchanged row is
    // harmless, anything else rewrites history.
    await queryRunner.query(
      'CREATE TRIGGER `audit_chain_heads_no_rewind` BEFORE UPDATE ON `audit_chain_heads` ' +
        'FOR EACH ROW BEGIN ' +
        'IF NEW.`lane` <> OLD.`lane` OR NEW.`last_lane_seq` < OLD.`last_lane_seq` OR ' +
        '(NEW.`last_lane_seq` = OLD.`last_lane_seq` AND NOT (NEW.`last_seq` <=> OLD.`last_seq` AND NEW.`last_hash` <=> OLD.`last_hash`)) ' +
        "THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'audit_chain_heads can only move forward'; " +
        'END IF; END',
    );
    await queryRunner.query(
      'ALTER TABLE `audit_checkpoints` MODIFY `signature` varchar(128) NOT NULL, ' +
        "ADD `algorithm` varchar(16) NOT NULL DEFAULT 'HMAC-SHA256'",
    );
    // The default only labelled the rows already there; new rows must say how they are signed.
    await queryRunner.query('ALTER TABLE `audit_checkpoints` ALTER `algorithm` DROP DEFAULT');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // Fails (rather than truncating) while Ed25519 signatures are stored: they do not fit.
    await queryRunner.query(
      'ALTER TABLE `audit_checkpoints` DROP `algorithm`, MODIFY `signature` varchar(64) NOT NULL',
    );
    await queryRunner.query('DROP TRIGGER IF EXISTS `audit_chain_heads_no_rewind`');
    await queryRunner.query('DROP TRIGGER IF EXISTS `audit_chain_heads_no_delete`');
  }
}
