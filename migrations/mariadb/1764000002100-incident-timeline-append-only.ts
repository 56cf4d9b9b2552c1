import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An incident's timeline is append-only, like the audit events it mirrors: a row is inserted
 * complete with its audit event's seq, and nothing may change or delete it afterwards. Someone
 * with the rights to drop these triggers is still caught when the timeline is read: each row is
 * checked against its audit event.
 */
export class IncidentTimelineAppendOnly1764000002100 implements MigrationInterface {
  name = 'IncidentTimelineAppendOnly1764000002100';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const operation of ['UPDATE', 'DELETE']) {
      await queryRunner.query(
        `CREATE TRIGGER \`incident_timeline_no_${operation.toLowerCase()}\` BEFORE ${operation} ` +
          'ON `incident_timeline` FOR EACH ROW ' +
          "SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'incident_timeline is append-only'",
      );
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const operation of ['update', 'delete']) {
      await queryRunner.query(`DROP TRIGGER IF EXISTS \`incident_timeline_no_${operation}\``);
    }
  }
}
