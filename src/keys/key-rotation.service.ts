import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { AuditRequestContext, SYSTEM } from '../audit/audit-context';
import { AuditWriter } from '../audit/audit-writer';
import { loggableError } from '../common/errors/loggable-error';
import { credentialsConfig } from '../config/credentials.config';
import { KeyRewrapRegistry } from '../crypto/key-rewrap.registry';
import { KeyringEntry } from '../crypto/keyring-entry.entity';
import { KeyringService } from '../crypto/keyring.service';
import { LeaseService } from '../database/lease.service';
import { TransactionRunner } from '../database/transaction-runner';
import { KeyRotationTargetError } from './keys.errors';

const LEASE = 'kek-rewrap';
const LEASE_TTL_MS = 60_000;

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
  private stopping = false;

  constructor(
    private readonly keyring: KeyringService,
    private readonly registry: KeyRewrapRegistry,
    private readonly transactions: TransactionRunner,
    private readonly leases: LeaseService,
    private readonly audit: AuditWriter,
    @Inject(credentialsConfig.KEY) private readonly config: ConfigType<typeof credentialsConfig>,
  ) {}

  /** Resumes a rotation that a crash or restart interrupted. */
  async onApplicationBootstrap(): Promise<void> {
    if (this.keyring.isSealed()) return;
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

  /** Starts re-wrapping in the background unless it is running here already. */
  start(): void {
    this.rewrapAll().catch((error: unknown) =>
      this.logger.error({ err: loggableError(error) }, 'Master-key re-wrap stopped'),
    );
  }

  /**
   * Re-wraps everything under older keys; resolves when done, or when another instance holds
   * the lease. A run already going on in this instance is joined, not doubled.
   */
  rewrapAll(onBatch?: (moved: number, remaining: number) => void): Promise<Record<string, number>> {
    this.running ??= this.runRewrap(onBatch).finally(() => (this.running = undefined));
    return this.running;
  }

  private async runRewrap(
    onBatch?: (moved: number, remaining: number) => void,
  ): Promise<Record<string, number>> {
    this.progress = {
      state: 'running',
      startedAt: new Date(),
      finishedAt: null,
      rewrapped: {},
      error: null,
    };
    try {
      let moved: number;
      do {
        if (this.stopping || !(await this.leases.acquire(LEASE, LEASE_TTL_MS))) {
          this.progress.state = 'idle';
          return this.progress.rewrapped;
        }
        moved = await this.rewrapBatch();
        if (onBatch) onBatch(moved, await this.remaining());
      } while (moved > 0);
      await this.leases.release(LEASE);
      this.progress = { ...this.progress, state: 'done', finishedAt: new Date() };
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
        finishedAt: new Date(),
        error: (error as Error).message,
      };
      throw error;
    }
  }

  /** One batch per participant, each in its own transaction; returns how many items moved. */
  async rewrapBatch(): Promise<number> {
    let moved = 0;
    for (const participant of this.registry.participants()) {
      const count = await this.transactions.run(async (manager) =>
        participant.rewrapBatch(
          manager,
          await this.keyring.activeKek(manager),
          this.config.rewrapBatchSize,
        ),
      );
      this.progress.rewrapped[participant.name] =
        (this.progress.rewrapped[participant.name] ?? 0) + count;
      moved += count;
    }
    return moved;
  }

  async status(): Promise<KeyStatus> {
    const activeKeyId = this.keyring.activeKeyId();
    const { entries, counts } = await this.transactions.run(async (manager) => {
      const counts: Record<string, Record<string, number>> = {};
      for (const participant of this.registry.participants()) {
        counts[participant.name] = await participant.countByKey(manager);
      }
      return { entries: await manager.find(KeyringEntry, { order: { createdAt: 'ASC' } }), counts };
    });
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
      return {
        id,
        status,
        configured: held.has(id),
        createdAt: entry?.createdAt ?? null,
        references,
        removable,
        note: noteFor(status, total, removable),
      } satisfies KeyReport;
    });
    const remaining = keys
      .filter((k) => k.status !== 'active')
      .reduce((sum, k) => sum + Object.values(k.references).reduce((a, b) => a + b, 0), 0);
    return { activeKeyId, remaining, rewrap: { ...this.progress }, keys };
  }

  private async remaining(): Promise<number> {
    return (await this.status()).remaining;
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

function noteFor(status: KeyReport['status'], references: number, removable: boolean): string {
  if (status === 'active') return 'Wraps new data keys; keep it configured.';
  if (status === 'not-enrolled') return 'Configured but never activated; rotate to it to use it.';
  if (!removable)
    return `Still protects ${references} item(s): keep it configured until re-wrapping finishes.`;
  return 'Nothing is wrapped by it any more: it can be removed from the configuration. Audit events signed with it verify only while it is configured.';
}
