import { MigrationInterface, QueryRunner } from 'typeorm';

const TABLE_OPTIONS = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci';

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
    await queryRunner.query(
      'ALTER TABLE `event_outbox` ADD `stream_seq` bigint NULL, ' +
        'ADD UNIQUE INDEX `uq_event_outbox_stream_seq` (`stream_seq`)',
    );
    await queryRunner.query(
      'CREATE TABLE `event_stream_head` (`id` smallint NOT NULL, `last_stream_seq` bigint NOT NULL, ' +
        'PRIMARY KEY (`id`)) ' +
        TABLE_OPTIONS,
    );
    await queryRunner.query(
      'UPDATE `event_outbox` e JOIN (SELECT `seq`, ROW_NUMBER() OVER (ORDER BY `seq`) AS n ' +
        'FROM `event_outbox`) numbered ON numbered.`seq` = e.`seq` SET e.`stream_seq` = numbered.n',
    );
    await queryRunner.query(
      'INSERT INTO `event_stream_head` (`id`, `last_stream_seq`) ' +
        'SELECT 1, COALESCE(MAX(`stream_seq`), 0) FROM `event_outbox`',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE `event_stream_head`');
    await queryRunner.query(
      'ALTER TABLE `event_outbox` DROP INDEX `uq_event_outbox_stream_seq`, DROP COLUMN `stream_seq`',
    );
  }
}
