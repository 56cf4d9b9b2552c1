import { MigrationInterface, QueryRunner } from 'typeorm';

const CHECKPOINT_COLUMNS = '"id", "created_at", "head_seq", "lanes", "key_id", "signature"';

/**
 * Heads may only move forward: a deleted or rewound head would hide events cut from the end of
 * a lane. Checkpoints get Ed25519 signatures (64 bytes, base64) and say which algorithm signed
 * them; rows from before keep their HMAC and are marked so.
 */
export class AuditHeadsGuardEd25519Checkpoints1764000000700 implements MigrationInterface {
  name = 'AuditHeadsGuardEd25519Checkpoints1764000000700';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TRIGGER "audit_chain_heads_no_delete" BEFORE DELETE ON "audit_chain_heads" ' +
        "BEGIN SELECT RAISE(ABORT, 'audit_chain_heads rows cannot be deleted'); END",
    );
    // The writer only ever moves a head to a later event of the same lane; an unchanged row is
    // harmless, anything else rewrites history. CAST: a value bound as text must compare as a
    // number, not sort after every integer.
    await queryRunner.query(
      'CREATE TRIGGER "audit_chain_heads_no_rewind" BEFORE UPDATE ON "audit_chain_heads" ' +
        'FOR EACH ROW WHEN NEW."lane" <> OLD."lane" OR ' +
        'CAST(NEW."last_lane_seq" AS INTEGER) < CAST(OLD."last_lane_seq" AS INTEGER) OR ' +
        '(CAST(NEW."last_lane_seq" AS INTEGER) = CAST(OLD."last_lane_seq" AS INTEGER) AND ' +
        'NOT (NEW."last_seq" IS OLD."last_seq" AND NEW."last_hash" IS OLD."last_hash")) ' +
        "BEGIN SELECT RAISE(ABORT, 'audit_chain_heads can only move forward'); END",
    );
    await rebuildCheckpoints(
      queryRunner,
      '"signature" varchar(128) NOT NULL, "algorithm" varchar(16) NOT NULL',
      `${CHECKPOINT_COLUMNS}, "algorithm"`,
      `${CHECKPOINT_COLUMNS}, 'HMAC-SHA256'`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await rebuildCheckpoints(
      queryRunner,
      '"signature" varchar(64) NOT NULL',
      CHECKPOINT_COLUMNS,
      CHECKPOINT_COLUMNS,
    );
    await queryRunner.query('DROP TRIGGER IF EXISTS "audit_chain_heads_no_rewind"');
    await queryRunner.query('DROP TRIGGER IF EXISTS "audit_chain_heads_no_delete"');
  }
}

/**
 * SQLite cannot change a column in place: copy the rows into a table of the new shape, swap it
 * in, and put back the append-only triggers that went with the old table.
 */
async function rebuildCheckpoints(
  queryRunner: QueryRunner,
  signatureColumns: string,
  targetColumns: string,
  sourceColumns: string,
): Promise<void> {
  await queryRunner.query(
    'CREATE TABLE "temporary_audit_checkpoints" (' +
      '"id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, ' +
      '"created_at" datetime(3) NOT NULL, ' +
      '"head_seq" bigint, ' +
      '"lanes" text NOT NULL, ' +
      '"key_id" varchar(32) NOT NULL, ' +
      `${signatureColumns})`,
  );
  await queryRunner.query(
    `INSERT INTO "temporary_audit_checkpoints" (${targetColumns}) SELECT ${sourceColumns} FROM "audit_checkpoints"`,
  );
  await queryRunner.query('DROP TABLE "audit_checkpoints"');
  await queryRunner.query('ALTER TABLE "temporary_audit_checkpoints" RENAME TO "audit_checkpoints"');
  for (const operation of ['UPDATE', 'DELETE']) {
    await queryRunner.query(
      `CREATE TRIGGER "audit_checkpoints_no_${operation.toLowerCase()}" BEFORE ${operation} ON "audit_checkpoints" ` +
        "BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only'); END",
    );
  }
}
