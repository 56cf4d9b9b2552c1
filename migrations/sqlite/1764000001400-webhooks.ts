import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Webhook subscriptions, their deliveries (a row per event and subscription, claimed by the
 * dispatcher), and the one-row cursor of the fan-out from the event stream, starting at 0: the
 * fan-out skips ahead while no subscription exists.
 */
export class Webhooks1764000001400 implements MigrationInterface {
  name = 'Webhooks1764000001400';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "webhook_subscriptions" ("id" varchar(36) PRIMARY KEY NOT NULL, "url" varchar(2048) NOT NULL, "description" varchar(500), "events" text NOT NULL, "active" boolean NOT NULL, "secret_sealed" varchar(255) NOT NULL, "start_stream_seq" bigint NOT NULL, "created_by" varchar(36), "created_at" datetime NOT NULL DEFAULT (datetime(\'now\')), "updated_at" datetime NOT NULL DEFAULT (datetime(\'now\')))',
    );
    await queryRunner.query(
      'CREATE TABLE "webhook_deliveries" ("id" varchar(36) PRIMARY KEY NOT NULL, "subscription_id" varchar(36) NOT NULL, "stream_seq" bigint NOT NULL, "event_type" varchar(64) NOT NULL, "payload" text NOT NULL, "status" varchar(16) NOT NULL, "attempts" integer NOT NULL DEFAULT (0), "next_attempt_at" datetime(3) NOT NULL, "claimed_by" varchar(128), "claim_expires_at" datetime(3), "last_status_code" integer, "last_error" varchar(500), "redelivery_of" varchar(36), "delivered_at" datetime(3), "created_at" datetime(3) NOT NULL, "updated_at" datetime(3) NOT NULL)',
    );
    await queryRunner.query(
      'CREATE INDEX "idx_webhook_deliveries_subscription" ON "webhook_deliveries" ("subscription_id", "created_at")',
    );
    await queryRunner.query(
      'CREATE INDEX "idx_webhook_deliveries_due" ON "webhook_deliveries" ("status", "next_attempt_at")',
    );
    await queryRunner.query(
      'CREATE TABLE "webhook_fanout_cursor" ("id" smallint PRIMARY KEY NOT NULL, "last_stream_seq" bigint NOT NULL)',
    );
    await queryRunner.query(
      'INSERT INTO "webhook_fanout_cursor" ("id", "last_stream_seq") VALUES (1, 0)',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE "webhook_fanout_cursor"');
    await queryRunner.query('DROP INDEX "idx_webhook_deliveries_due"');
    await queryRunner.query('DROP INDEX "idx_webhook_deliveries_subscription"');
    await queryRunner.query('DROP TABLE "webhook_deliveries"');
    await queryRunner.query('DROP TABLE "webhook_subscriptions"');
  }
}
