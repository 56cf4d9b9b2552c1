import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { Interval } from '@nestjs/schedule';
import { AuditRequestContext, SYSTEM } from '../audit/audit-context';
import { AuditWriter } from '../audit/audit-writer';
import { loggableError } from '../common/errors/loggable-error';
import { credentialsConfig } from '../config/credentials.config';
import { KeyRewrapRegistry } from '../crypto/key-rewrap.registry';
import { KeyringEntry } from '../crypto/keyring-entry.entity';
import { KeyringService } from '../crypto/keyring.service';
import { isDeadlock } from '../database/dialect';
import { LeaseService } from '../database/lease.service';
import { TransactionRunner } from '../database/transaction-runner';
import { KeyMetrics } from './key-metrics';
import { KeyRotationTargetError } from './keys.errors';
import { randomInt } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { clock } from '../common/clock';

const LEASE = 'kek-rewrap';
const LEASE_TTL_MS = 60_000;
/** After another instance held the lease, this long before trying again. */
export const REWRAP_RETRY_MS = 15_000;
/** How often the schedule looks whether a retry is due. */
export const REWRAP_RETRY_TICK_MS = 1000;
const IDLE_WAIT_MS = 500;
const MAX_IDLE_BATCHES = 20;
/**
 * Tries of one participant's batch. A batch locks versions in key order while a concurrent
 * secret write holds its credential's new version and waits for the old one: MariaDB aborts one
 * of the two. The batch's work is all in its transaction, so running it again is safe.
 */
const BATCH_ATTEMPTS = 5;

type BatchListener = (moved: number, remaining: number) => void;

export type RewrapState = 'idle' | 'running' | 'done' | 'failed';

export interface RewrapProgress {
  state: RewrapState;
  startedAt: Date | null;
  finishedAt: Date | null;
  /** Items moved to the active key by this instance's last run, by participant. */
  rewrapped: Record<string, number>;
  error: string | null;
}

export interface KeyReport {
  id: string;
  status: 'active' | 'retired' | 'not-enrolled';
  configured: boolean;
  createdAt: Date | null;
  references: Record<string, number>;
  removable: boolean;
  /** Audit events were signed with it: `audit verify` needs it for them. */
  signsAuditEvents: boolean;
  note: string;
}

export interface KeyStatus {
  activeKeyId: string;
  /** Items still under a key other than the active one. */
  remaining: number;
  rewrap: RewrapProgress;
  keys: KeyReport[];
}

/**
 * Master-key (KEK) rotation: a new key becomes active for new data at once, then the data keys
 * and sealed values under older keys are re-wrapped in batches, one transaction each. Progress is
 * the data itself (what is still under an old key), so a crash or restart resumes where it
 * stopped, and one instance at a time works on it (lease). Nothing is re-encrypted and reads go
 * on throughout: every instance holds the old and the new key until the old one is unused.
 */
@Injectable()
export class KeyRotationService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(KeyRotationService.name);
  private progress: RewrapProgress = {
    state: 'idle',
    startedAt: null,
    finishedAt: null,
    rewrapped: {},
    error: null,
  };
  private running?: Promise<Record<string, number>>;
  private readonly listeners = new Set<BatchListener>();
  /** When to try again (Date.now() ms): set when another instance held the lease, else null. */
  private retryAt: number | null = null;
  private stopping = false;

  /** The CLI turns this off: `keys:rotate --status` must only look, and `keys:rotate` runs it itself. */
  static resumeOnStart = true;

  constructor(
    private readonly keyring: KeyringService,
    private readonly registry: KeyRewrapRegistry,
    private readonly transactions: TransactionRunner,
    private readonly leases: LeaseService,
    private readonly audit: AuditWriter,
    private readonly metrics: KeyMetrics,
    @Inject(credentialsConfig.KEY) private readonly config: ConfigType<typeof credentialsConfig>,
  ) {}

  /** Resumes a rotation that a crash or restart interrupted. */
  async onApplicationBootstrap(): Promise<void> {
    if (this.keyring.isSealed() || !KeyRotationService.resumeOnStart) return;
    if ((await this.remaining()) > 0) this.start();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.running?.catch(() => undefined);
  }

  /**
   * Makes `keyId` (or the one configured key the keyring does not know yet) the active master
   * key, audited in the same transaction. Re-wrapping is started separately (start / rewrapAll).
   */
  async activate(
    keyId: string | undefined,
    context?: AuditRequestContext,
  ): Promise<{ from: string; to: string }> {
    const target = await this.targetKey(keyId);
    const result = await this.transactions.run(async (manager) => {
      const { previous } = await this.keyring.activate(target, manager);
      await this.audit.record(
        {
          action: 'keys.rotate',
          outcome: 'success',
          httpStatus: 202,
          resourceType: 'master_key',
          resourceId: target,
          details: { from: previous, to: target },
          context,
          ...(context ? {} : { actor: SYSTEM }),
        },
        manager,
      );
      return { from: previous, to: target };
    });
    this.keyring.useActive(target);
    this.logger.log(`Master key "${result.to}" is active (was "${result.from}")`);
    return result;
  }

  /**
   * Re-wraps in the background unless it is running here already. While another instance holds
   * the lease (or one that stopped has not expired yet), retryTick tries again REWRAP_RETRY_MS
   * later, until nothing is left, so a rotation never stalls half-way.
   */
  start(): void {
    this.retryAt = null;
    this.rewrapAll()
      .then(async () => {
        if (this.stopping || this.progress.state === 'done') return;
        if ((await this.remaining()) === 0) return;
        this.retryAt = Date.now() + REWRAP_RETRY_MS;
      })
      .catch((error: unknown) =>
        this.logger.error({ err: loggableError(error) }, 'Master-key re-wrap stopped'),
      );
  }

  /**
   * The retry of start(), on the one scheduler all periodic work runs on: a fixed tick that
   * starts again once a retry is due and no run is going on here. True when it started one.
   */
  @Interval('kek-rewrap-retry', REWRAP_RETRY_TICK_MS)
  retryTick(now = Date.now()): boolean {
    if (this.stopping || this.running || this.retryAt === null || now < this.retryAt) return false;
    this.start();
    return true;
  }

  /**
   * Re-wraps everything under older keys; resolves when nothing is left, or at once (state
   * `idle`) when another instance holds the lease. A run already going on here is joined.
   */
  async rewrapAll(onBatch?: BatchListener): Promise<Record<string, number>> {
    if (onBatch) this.listeners.add(onBatch);
    try {
      this.running ??= this.runRewrap().finally(() => (this.running = undefined));
      return await this.running;
    } finally {
      if (onBatch) this.listeners.delete(onBatch);
    }
  }

  /** Whether the last run here stopped because another instance holds the lease. */
  heldElsewhere(): boolean {
    return this.progress.state === 'idle' && this.progress.startedAt !== null;
  }

  private async runRewrap(): Promise<Record<string, number>> {
    this.progress = {
      state: 'running',
      startedAt: clock.date(),
      finishedAt: null,
      rewrapped: {},
      error: null,
    };
    let holding = false;
    try {
      // Counting what is left scans every version; between counts it is the last count less
      // what moved since. Counted again when that reaches nothing or a batch moves nothing.
      let remaining: number | null = null;
      for (let idle = 0; ;) {
        if (this.stopping || !(await this.leases.acquire(LEASE, LEASE_TTL_MS))) {
          this.progress.state = 'idle';
          return this.progress.rewrapped;
        }
        holding = true;
        const moved = await this.rewrapBatch();
        const left: number =
          remaining !== null && moved > 0 && remaining > moved
            ? remaining - moved
            : await this.remaining();
        remaining = left;
        this.metrics.remaining.set(left);
        this.listeners.forEach((listener) => listener(moved, left));
        if (left === 0) break;
        // Nothing moved but something is left: a row written under the old key by a
        // transaction that read the keyring just before the switch. Wait for it, a few times.
        idle = moved > 0 ? 0 : idle + 1;
        if (idle > MAX_IDLE_BATCHES) {
          throw new Error(`${remaining} item(s) are still under an old master key and do not move`);
        }
        if (moved === 0) await new Promise((resolve) => setTimeout(resolve, IDLE_WAIT_MS));
      }
      this.progress = { ...this.progress, state: 'done', finishedAt: clock.date() };
      await this.audit.record({
        action: 'keys.rewrap.completed',
        outcome: 'success',
        resourceType: 'master_key',
        resourceId: this.keyring.activeKeyId(),
        details: { rewrapped: this.progress.rewrapped },
        actor: SYSTEM,
      });
      return this.progress.rewrapped;
    } catch (error) {
      this.progress = {
        ...this.progress,
        state: 'failed',
        finishedAt: clock.date(),
        error: (error as Error).message,
      };
      throw error;
    } finally {
      // Stopped, failed or done: the next run (here or elsewhere) must not wait for expiry.
      if (holding) await this.leases.release(LEASE).catch(() => undefined);
    }
  }

  /** One batch per participant, each in its own transaction; returns how many items moved. */
  async rewrapBatch(): Promise<number> {
    let moved = 0;
    for (const participant of this.registry.participants()) {
      const count = await this.retryingDeadlocks(async (manager) =>
        participant.rewrapBatch(
          manager,
          await this.keyring.activeKek(manager),
          this.config.rewrapBatchSize,
        ),
      );
      this.metrics.rewrapped.inc({ kind: participant.name }, count);
      this.progress.rewrapped[participant.name] =
        (this.progress.rewrapped[participant.name] ?? 0) + count;
      moved += count;
    }
    return moved;
  }

  private async retryingDeadlocks<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.transactions.run(work);
      } catch (error) {
        if (attempt >= BATCH_ATTEMPTS || !isDeadlock(error)) throw error;
        // A short random pause lets the write that won commit first.
        await new Promise((resolve) => setTimeout(resolve, randomInt(10, 10 + 40 * attempt)));
      }
    }
  }

  async status(): Promise<KeyStatus> {
    const { entries, counts, auditKeys } = await this.transactions.run(async (manager) => {
      const references = await this.references(manager);
      return { ...references, auditKeys: await this.keysSigningAudit(manager, references.entries) };
    });
    // The keyring decides which key is active, not this instance's memory: another instance
    // may have rotated.
    const activeKeyId =
      entries.find((e) => e.status === 'active')?.id ?? this.keyring.activeKeyId();
    const held = new Set(this.keyring.heldKeyIds());
    const ids = [...new Set([...entries.map((e) => e.id), ...held])];
    const keys = ids.map((id) => {
      const entry = entries.find((e) => e.id === id);
      const references = Object.fromEntries(
        Object.entries(counts).map(([name, byKey]) => [name, byKey[id] ?? 0]),
      );
      const total = Object.values(references).reduce((a, b) => a + b, 0);
      const status = entry ? (entry.id === activeKeyId ? 'active' : 'retired') : 'not-enrolled';
      const removable = status !== 'active' && total === 0;
      const signsAuditEvents = auditKeys.has(id);
      return {
        id,
        status,
        configured: held.has(id),
        createdAt: entry?.createdAt ?? null,
        references,
        removable,
        signsAuditEvents,
        note: noteFor(status, total, removable, signsAuditEvents),
      } satisfies KeyReport;
    });
    const remaining = remainingOf({ entries, counts });
    this.metrics.remaining.set(remaining);
    return {
      activeKeyId,
      remaining,
      rewrap: { ...this.progress },
      keys,
    };
  }

  private async remaining(): Promise<number> {
    const { entries, counts } = await this.transactions.run((manager) => this.references(manager));
    const remaining = remainingOf({ entries, counts });
    this.metrics.remaining.set(remaining);
    return remaining;
  }

  /** The keyring and, per participant, how many items each key protects. */
  private async references(manager: EntityManager): Promise<References> {
    const counts: Record<string, Record<string, number>> = {};
    for (const participant of this.registry.participants()) {
      counts[participant.name] = await participant.countByKey(manager);
    }
    return { entries: await manager.find(KeyringEntry, { order: { createdAt: 'ASC' } }), counts };
  }

  /**
   * The retired keys that signed audit events, which verify only while the key is configured.
   * Their events are the oldest, so each probe stops early.
   */
  private async keysSigningAudit(
    manager: EntityManager,
    entries: readonly KeyringEntry[],
  ): Promise<Set<string>> {
    const signing = new Set<string>();
    for (const { id } of entries.filter((entry) => entry.status === 'retired')) {
      const [event] = await manager.query<unknown[]>(
        'SELECT 1 AS found FROM audit_events WHERE key_id = ? LIMIT 1',
        [id],
      );
      if (event) signing.add(id);
    }
    return signing;
  }

  private async targetKey(requested: string | undefined): Promise<string> {
    const held = this.keyring.heldKeyIds();
    if (requested) {
      if (!held.includes(requested)) {
        throw new KeyRotationTargetError(
          `Master key "${requested}" is not configured on this instance (configured: ${held.join(', ')})`,
        );
      }
      return requested;
    }
    const known = new Set(
      (await this.transactions.run((m) => m.find(KeyringEntry, { select: { id: true } }))).map(
        (e) => e.id,
      ),
    );
    const fresh = held.filter((id) => !known.has(id));
    if (fresh.length === 1) return fresh[0];
    throw new KeyRotationTargetError(
      fresh.length === 0
        ? 'No new master key is configured: add one (e.g. CUSTOS_MASTER_KEYS=old:<key>,new:<key>) on every instance, then rotate'
        : `Several new master keys are configured (${fresh.join(', ')}): name the one to activate`,
    );
  }
}

interface References {
  entries: KeyringEntry[];
  counts: Record<string, Record<string, number>>;
}

/** Items under any key but the active one. */
function remainingOf({ entries, counts }: References): number {
  const active = entries.find((e) => e.status === 'active')?.id;
  return Object.values(counts)
    .flatMap((byKey) => Object.entries(byKey))
    .filter(([keyId]) => keyId !== active)
    .reduce((sum, [, count]) => sum + count, 0);
}

function noteFor(
  status: KeyReport['status'],
  references: number,
  removable: boolean,
  signsAuditEvents: boolean,
): string {
  if (status === 'active') return 'Wraps new data keys; keep it configured.';
  if (status === 'not-enrolled') return 'Configured but never activated; rotate to it to use it.';
  if (!removable) {
    return `Still protects ${references} item(s): keep it configured until re-wrapping finishes.`;
  }
  return signsAuditEvents
    ? 'No secret is wrapped by it any more, so it can be removed; but older audit events are signed with it and verify only while it is configured (keep an offline copy).'
    : 'Nothing is wrapped or signed by it any more: it can be removed from the configuration.';
}
