import { MigrationInterface, QueryRunner } from 'typeorm';

const APPEND_ONLY = ['audit_events', 'audit_checkpoints'];

export class Audit1764000000100 implements MigrationInterface {
  name = 'Audit1764000000100';

  async up(queryRunner: QueryRunner): Promise<void> {
    // SQLite allows AUTOINCREMENT only on "integer PRIMARY KEY", which is 64-bit there.
    await queryRunner.query(
      'CREATE TABLE "audit_events" (' +
        '"seq" integer PRIMARY KEY AUTOINCREMENT NOT NULL, ' +
        '"lane" smallint NOT NULL, ' +
        '"lane_seq" bigint NOT NULL, ' +
        '"occurred_at" datetime(3) NOT NULL, ' +
        '"actor_type" varchar(16) NOT NULL, ' +
        '"actor_id" varchar(64), ' +
        '"actor_display" varchar(255), ' +
        '"ip" varchar(64), ' +
        '"user_agent" varchar(512), ' +
        '"request_id" varchar(128), ' +
        '"action" varchar(128) NOT NULL, ' +
        '"resource_type" varchar(64), ' +
        '"resource_id" varchar(191), ' +
        '"outcome" varchar(16) NOT NULL, ' +
        '"http_status" smallint, ' +
        '"details" text NOT NULL, ' +
        '"key_id" varchar(32) NOT NULL, ' +
        '"prev_hash" varchar(64), ' +
        '"hash" varchar(64) NOT NULL' +
        ')',
    );
    await queryRunner.query(
      'CREATE INDEX "idx_audit_events_resource" ON "audit_events" ("resource_type", "resource_id")',
    );
    await queryRunner.query('CREATE INDEX "idx_audit_events_actor" ON "audit_events" ("actor_id")');
    await queryRunner.query('CREATE INDEX "idx_audit_events_action" ON "audit_events" ("action")');
    await queryRunner.query(
      'CREATE INDEX "idx_audit_events_occurred_at" ON "audit_events" ("occurred_at")',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "uq_audit_events_lane_seq" ON "audit_events" ("lane", "lane_seq")',
    );
    await queryRunner.query(
      'CREATE TABLE "audit_chain_heads" (' +
        '"lane" smallint PRIMARY KEY NOT NULL, ' +
        '"last_lane_seq" bigint NOT NULL DEFAULT (0), ' +
        '"last_seq" bigint, ' +
        '"last_hash" varchar(64)' +
        ')',
    );
    await queryRunner.query(
      'CREATE TABLE "audit_checkpoints" (' +
        '"id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, ' +
        '"created_at" datetime(3) NOT NULL, ' +
        '"head_seq" bigint, ' +
        '"lanes" text NOT NULL, ' +
        '"key_id" varchar(32) NOT NULL, ' +
        '"signature" varchar(64) NOT NULL' +
        ')',
    );
    await queryRunner.query(
      'CREATE TABLE "outbox" (' +
        '"id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, ' +
        '"sink" varchar(32) NOT NULL, ' +
        '"topic" varchar(64) NOT NULL, ' +
        '"payload" text NOT NULL, ' +
        '"attempts" integer NOT NULL DEFAULT (0), ' +
        '"next_attempt_at" datetime(3), ' +
        '"last_error" varchar(512), ' +
        '"created_at" datetime NOT NULL DEFAULT (datetime(\'now\'))' +
        ')',
    );
    await queryRunner.query('CREATE INDEX "idx_outbox_sink_id" ON "outbox" ("sink", "id")');
    for (const table of APPEND_ONLY) {
      for (const operation of ['UPDATE', 'DELETE']) {
        await queryRunner.query(
          `CREATE TRIGGER "${table}_no_${operation.toLowerCase()}" BEFORE ${operation} ON "${table}" ` +
            `BEGIN SELECT RAISE(ABORT, '${table} is append-only'); END`,
        );
      }
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of APPEND_ONLY) {
      for (const operation of ['update', 'delete']) {
        await queryRunner.query(`DROP TRIGGER IF EXISTS "${table}_no_${operation}"`);
      }
    }
    await queryRunner.query('DROP TABLE "outbox"');
    await queryRunner.query('DROP TABLE "audit_checkpoints"');
    await queryRunner.query('DROP TABLE "audit_chain_heads"');
    await queryRunner.query('DROP TABLE "audit_events"');
  }
}
