import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The event stream's own sequence: `event_outbox.seq` is given at insert, so it does not say in
 * which order events became visible, and a reader resuming after a seq could miss one committed
 * late. `stream_seq` is given after commit by the sequencer, from the counter in
 * `event_stream_head`. Events already stored are numbered here in seq order (they are all
 * committed), so the stream starts with the outbox's history.
 */
export class EventStreamSeq1764000001500 implements MigrationInterface {
  name = 'EventStreamSeq1764000001500';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "event_outbox" ADD COLUMN "stream_seq" bigint');
    await queryRunner.query(
      'CREATE UNIQUE INDEX "uq_event_outbox_stream_seq" ON "event_outbox" ("stream_seq")',
    );
    await queryRunner.query(
      'CREATE TABLE "event_stream_head" ("id" smallint PRIMARY KEY NOT NULL, "last_stream_seq" bigint NOT NULL)',
    );
    await queryRunner.query(
      'UPDATE "event_outbox" SET "stream_seq" = numbered.n FROM (SELECT "seq", ROW_NUMBER() OVER (ORDER BY "seq") AS n ' +
        'FROM "event_outbox") AS numbered WHERE numbered."seq" = "event_outbox"."seq"',
    );
    await queryRunner.query(
      'INSERT INTO "event_stream_head" ("id", "last_stream_seq") ' +
        'SELECT 1, COALESCE(MAX("stream_seq"), 0) FROM "event_outbox"',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE "event_stream_head"');
    await queryRunner.query('DROP INDEX "uq_event_outbox_stream_seq"');
    await queryRunner.query('ALTER TABLE "event_outbox" DROP COLUMN "stream_seq"');
  }
}
