import { MigrationInterface, QueryRunner } from 'typeorm';

const TABLE_OPTIONS = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci';

/**
 * Webhook subscriptions, their deliveries (a row per event and subscription, claimed by the
 * dispatcher), and the one-row cursor of the fan-out from the event stream, starting at 0: the
 * fan-out skips ahead while no subscription exists.
 */
export class Webhooks1764000001400 implements MigrationInterface {
  name = 'Webhooks1764000001400';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE `webhook_subscriptions` (`id` varchar(36) NOT NULL, `url` varchar(2048) NOT NULL, `description` varchar(500) NULL, `events` text NOT NULL, `active` tinyint NOT NULL, `secret_sealed` varchar(255) NOT NULL, `start_stream_seq` bigint NOT NULL, `created_by` varchar(36) NULL, `created_at` datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), `updated_at` datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6), ' +
        'PRIMARY KEY (`id`)) ' +
        TABLE_OPTIONS,
    );
    await queryRunner.query(
      "CREATE TABLE `webhook_deliveries` (`id` varchar(36) NOT NULL, `subscription_id` varchar(36) NOT NULL, `stream_seq` bigint NOT NULL, `event_type` varchar(64) NOT NULL, `payload` text NOT NULL, `status` varchar(16) NOT NULL, `attempts` int NOT NULL DEFAULT '0', `next_attempt_at` datetime(3) NOT NULL, `claimed_by` varchar(128) NULL, `claim_expires_at` datetime(3) NULL, `last_status_code` int NULL, `last_error` varchar(500) NULL, `redelivery_of` varchar(36) NULL, `delivered_at` datetime(3) NULL, `created_at` datetime(3) NOT NULL, `updated_at` datetime(3) NOT NULL, " +
        'INDEX `idx_webhook_deliveries_subscription` (`subscription_id`, `created_at`), INDEX `idx_webhook_deliveries_due` (`status`, `next_attempt_at`), PRIMARY KEY (`id`)) ' +
        TABLE_OPTIONS,
    );
    await queryRunner.query(
      'CREATE TABLE `webhook_fanout_cursor` (`id` smallint NOT NULL, `last_stream_seq` bigint NOT NULL, PRIMARY KEY (`id`)) ' +
        TABLE_OPTIONS,
    );
    await queryRunner.query(
      'INSERT INTO `webhook_fanout_cursor` (`id`, `last_stream_seq`) VALUES (1, 0)',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE `webhook_fanout_cursor`');
    await queryRunner.query('DROP TABLE `webhook_deliveries`');
    await queryRunner.query('DROP TABLE `webhook_subscriptions`');
  }
}
