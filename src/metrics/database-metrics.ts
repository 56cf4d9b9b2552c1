import { Injectable } from '@nestjs/common';
import { Counter } from 'prom-client';
import { RETRY_REASONS } from '../common/errors/database-failure';
import { TransactionRunner } from '../database/transaction-runner';
import { HttpMetrics } from './http-metrics';

/**
 * Transactions re-run after losing to a concurrent one, by reason: on one server a few deadlocks
 * are normal; on Galera with writes through every node, certification conflicts show here first.
 */
@Injectable()
export class DatabaseMetrics {
  constructor(metrics: HttpMetrics, transactions: TransactionRunner) {
    new Counter({
      name: 'custos_db_transaction_retries_total',
      help: 'Units of work run again after a deadlock, lock wait timeout, certification conflict or lost connection, by reason',
      labelNames: ['reason'] as const,
      registers: [metrics.registry],
      // The runner counts on its hot path without knowing of metrics; a scrape copies its counts.
      collect() {
        this.reset();
        for (const reason of RETRY_REASONS) {
          this.inc({ reason }, transactions.retries.get(reason) ?? 0);
        }
      },
    });
  }
}
