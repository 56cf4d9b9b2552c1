import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { Interval } from '@nestjs/schedule';
import { loggableError } from '../common/errors/loggable-error';
import { credentialsConfig } from '../config/credentials.config';
import { KeyringService } from '../crypto/keyring.service';
import { LeaseService } from '../database/lease.service';
import { TransactionRunner } from '../database/transaction-runner';
import { CredentialMetrics } from './credential-metrics';
import { backfillBatch } from './fingerprint-backfill-batch';
import type { VersionKey } from './fingerprint-backfill-plan';
import { VersionCrypto } from './version-crypto';

/** How often the schedule asks whether a pass is due. */
export const BACKFILL_TICK_MS = 1000;
/** Between passes while versions are left (ones whose master key is not held here). */
const BACKFILL_INTERVAL_MS = 60_000;
const LEASE = 'fingerprint-backfill';
/** Renewed after every batch; a batch decrypts at most KEYS_REWRAP_BATCH_SIZE versions. */
const LEASE_TTL_MS = 120_000;

/** What one pass did, for the log, the metric and tests. */
export interface BackfillPass {
  filled: number;
  gone: number;
  failed: number;
}

const NOTHING: BackfillPass = { filled: 0, gone: 0, failed: 0 };

/**
 * Completes the leak-scan fingerprints of versions stored before every value had one with its
 * length (listed by migration 1764000002200), so an upgrade finds old passwords inside connection
 * strings without waiting for a master-key rotation. One instance at a time (lease), a batch per
 * transaction (see backfillBatch for why it is safe beside writes, shreds and re-wraps). Nothing
 * is ever listed after the migration, so once the list is empty this instance stops looking; a
 * pass that finds nothing costs one read of an empty primary key.
 */
@Injectable()
export class FingerprintBackfill implements OnApplicationShutdown {
  private readonly logger = new Logger(FingerprintBackfill.name);
  private lastAt = 0;
  private drained = false;
  private stopping = false;
  private running?: Promise<BackfillPass>;

  constructor(
    private readonly transactions: TransactionRunner,
    private readonly leases: LeaseService,
    private readonly keyring: KeyringService,
    private readonly crypto: VersionCrypto,
    private readonly metrics: CredentialMetrics,
    @Inject(credentialsConfig.KEY) private readonly config: ConfigType<typeof credentialsConfig>,
  ) {}

  @Interval('fingerprint-backfill', BACKFILL_TICK_MS)
  tick(now = Date.now()): Promise<BackfillPass> | null {
    if (this.stopping || this.drained || this.running) return null;
    if (now - this.lastAt < BACKFILL_INTERVAL_MS || this.keyring.isSealed()) return null;
    this.lastAt = now;
    return this.run();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.running;
  }

  /** One pass over every listed version, unless one is running here already; never throws. */
  run(): Promise<BackfillPass> {
    this.running ??= this.pass().finally(() => (this.running = undefined));
    return this.running;
  }

  private async pass(): Promise<BackfillPass> {
    try {
      // Through the runner: on SQLite a bare read could see a unit of work's uncommitted deletes.
      const first = await this.transactions.read((manager) =>
        manager.query<unknown[]>(
          'SELECT credential_id FROM credential_fingerprint_backfill LIMIT 1',
        ),
      );
      if (first.length === 0) {
        this.drained = true;
        return NOTHING;
      }
      if (!(await this.leases.acquire(LEASE, LEASE_TTL_MS))) return NOTHING;
      let done: BackfillPass;
      try {
        done = await this.batches();
      } finally {
        await this.leases.release(LEASE).catch(() => undefined);
      }
      this.report(done);
      return done;
    } catch (error) {
      this.logger.error({ err: loggableError(error) }, 'Leak-scan fingerprint backfill failed');
      return NOTHING;
    }
  }

  private async batches(): Promise<BackfillPass> {
    const done = { ...NOTHING };
    const failed: VersionKey[] = [];
    for (let after: VersionKey | null = null; !this.stopping;) {
      const batch = await this.transactions.run(
        (manager) => backfillBatch(manager, this.crypto, after, this.config.rewrapBatchSize),
        'READ COMMITTED',
      );
      done.filled += batch.filled;
      done.gone += batch.gone;
      failed.push(...batch.failed);
      if (batch.last === null) break;
      after = batch.last;
      if (!(await this.leases.acquire(LEASE, LEASE_TTL_MS))) break;
    }
    done.failed = failed.length;
    if (failed.length > 0) {
      const some = failed.slice(0, 20).map((k) => `${k.credentialId}/${k.version}`);
      this.logger.warn(
        { versions: some, count: failed.length },
        'Leak-scan fingerprints not backfilled: the version did not open with the master keys held here',
      );
    }
    return done;
  }

  private report(done: BackfillPass): void {
    for (const outcome of ['filled', 'gone', 'failed'] as const) {
      if (done[outcome] > 0) this.metrics.fingerprintBackfill.inc({ outcome }, done[outcome]);
    }
    if (done.filled + done.gone > 0) {
      this.logger.log({ backfill: done }, 'Leak-scan fingerprints backfilled');
    }
  }
}
