import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHmac, randomInt } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { auditConfig } from '../config/audit.config';
import { KeyringService } from '../crypto/keyring.service';
import { dialectOf, forUpdate, toDate, utcNowSql } from '../database/dialect';
import { TransactionRunner } from '../database/transaction-runner';
import { ANONYMOUS, AuditEventInput } from './audit-context';
import { HashedEvent, insertAuditEvents } from './audit-event.sql';
import { AuditMetrics } from './audit-metrics';
import { sanitizeDetails } from './audit-sanitizer';
import { toEventRecord } from './audit-event.record';
import { ChainedEvent, chainHash } from './chain/audit-chain';
import { canonicalJson } from './chain/canonical-json';
import { AuditChainHead } from './entities/audit-chain-head.entity';
import { AuditOutbox } from './outbox/audit-outbox';

interface LockedHead {
  lastLaneSeq: string | number;
  lastHash: string | null;
  now: Date | string;
}

/**
 * Writes audit events, hash-chained, inside the caller's transaction: the event commits with the
 * change it describes or not at all, and if it cannot be written the caller's work fails too.
 *
 * Concurrency: events are spread over N independent chains (lanes). A writer locks the head row
 * of one lane for its transaction, so writers on different lanes never wait for each other and
 * one lock does not cap throughput; verification walks every lane. Call record() after the
 * transaction's other writes, so locks are always taken in the order domain rows, then lane.
 */
@Injectable()
export class AuditWriter implements OnApplicationBootstrap {
  private readonly lanes = new WeakMap<EntityManager, number>();
  private readonly listeners: ((count: number) => void)[] = [];
  private readonly queue: PendingEvent[] = [];
  private inFlight = 0;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly transactions: TransactionRunner,
    private readonly keyring: KeyringService,
    private readonly outbox: AuditOutbox,
    private readonly metrics: AuditMetrics,
    @Inject(auditConfig.KEY) private readonly config: ConfigType<typeof auditConfig>,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.ensureLanes();
  }

  /**
   * Records one event in `manager`'s transaction. Without a manager (an HTTP request's own event,
   * a system event) the event joins the next group commit: events that arrive while earlier ones
   * are being written share one transaction and one lane lock, and every caller waits for the
   * commit of its own event, so the fail-closed promise holds.
   */
  async record(input: AuditEventInput, manager?: EntityManager): Promise<void> {
    if (manager) return this.append(manager, [input]);
    return new Promise((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      this.flush();
    });
  }

  /** Called after each write, e.g. so the checkpointer can count events. */
  onRecorded(listener: (count: number) => void): void {
    this.listeners.push(listener);
  }

  /** HMAC of an identifier under the audit key, to correlate events without storing it. */
  hmacIdentifier(value: string): string {
    const key = this.keyring.purposeKey('audit-chain');
    return `hmac:${createHmac('sha256', key).update('identifier\n').update(value).digest('hex').slice(0, 32)}`;
  }

  /** Starts group commits while there is room; each takes whatever has queued up. */
  private flush(): void {
    // SQLite runs one transaction at a time anyway: one group in flight lets the next one grow.
    const maxInFlight = dialectOf(this.dataSource) === 'sqlite' ? 1 : MAX_GROUP_COMMITS;
    while (this.inFlight < maxInFlight && this.queue.length > 0) {
      const group = this.queue.splice(0, MAX_GROUP_SIZE);
      this.inFlight++;
      this.transactions
        .run((manager) =>
          this.append(
            manager,
            group.map((pending) => pending.input),
          ),
        )
        .then(
          () => group.forEach((pending) => pending.resolve()),
          (error: unknown) => group.forEach((pending) => pending.reject(error)),
        )
        .finally(() => {
          this.inFlight--;
          this.flush();
        });
    }
  }

  /** Chains and inserts events under one lock of one lane head. */
  private async append(manager: EntityManager, inputs: AuditEventInput[]): Promise<void> {
    const { keyId, key } = this.keyring.currentPurposeKey('audit-chain');
    const lane = this.laneFor(manager);
    const head = await this.lockHead(manager, lane);
    const occurredAt = toDate(head.now);
    let laneSeq = BigInt(head.lastLaneSeq);
    let prevHash = head.lastHash;
    const chained = inputs.map((input) => {
      laneSeq += 1n;
      const event = this.toChainedEvent(input, lane, String(laneSeq), occurredAt, keyId);
      const hash = chainHash(key, prevHash, event);
      const stored = { ...event, prevHash, hash };
      prevHash = hash;
      return stored;
    });
    const seqs = await this.insertEvents(manager, chained);
    const last = chained[chained.length - 1];
    await manager.query(
      'UPDATE audit_chain_heads SET last_lane_seq = ?, last_seq = ?, last_hash = ? WHERE lane = ?',
      [last.laneSeq, seqs[seqs.length - 1], last.hash, lane],
    );
    await this.outbox.enqueue(
      manager,
      'audit.event',
      chained.map((event, i) =>
        JSON.stringify({ type: 'audit.event', ...toEventRecord({ ...event, seq: seqs[i] }) }),
      ),
    );
    for (const input of inputs) {
      if (input.context) input.context.recorded = true;
      this.metrics.events.inc({ outcome: input.outcome });
    }
    for (const listener of this.listeners) listener(inputs.length);
  }

  private toChainedEvent(
    input: AuditEventInput,
    lane: number,
    laneSeq: string,
    occurredAt: Date,
    keyId: string,
  ): ChainedEvent {
    const actor = input.actor ?? input.context?.actor ?? ANONYMOUS;
    return {
      lane,
      laneSeq,
      occurredAt,
      actorType: actor.type,
      actorId: clip(actor.id, 64),
      actorDisplay: clip(actor.display, 255),
      ip: clip(input.context?.ip, 64),
      userAgent: clip(input.context?.userAgent, 512),
      requestId: clip(input.context?.requestId, 128),
      action: input.action.slice(0, 128),
      resourceType: clip(input.resourceType, 64),
      resourceId: clip(input.resourceId, 191),
      outcome: input.outcome,
      httpStatus: input.httpStatus ?? null,
      details: canonicalJson(sanitizeDetails(input.details ?? {}, (v) => this.hmacIdentifier(v))),
      keyId,
    };
  }

  private async insertEvents(manager: EntityManager, events: HashedEvent[]): Promise<string[]> {
    const { sql, parameters } = insertAuditEvents(dialectOf(manager), events);
    const rows = await manager.query<{ seq: string | number }[]>(sql, parameters);
    return rows.map((row) => String(row.seq));
  }

  /** One lane per transaction, so a transaction that records twice locks one head only. */
  private laneFor(manager: EntityManager): number {
    let lane = this.lanes.get(manager);
    if (lane === undefined) {
      lane = randomInt(this.config.lanes);
      this.lanes.set(manager, lane);
    }
    return lane;
  }

  private async lockHead(manager: EntityManager, lane: number): Promise<LockedHead> {
    const dialect = dialectOf(manager);
    const sql =
      `SELECT last_lane_seq AS lastLaneSeq, last_hash AS lastHash, ${utcNowSql(dialect)} AS now ` +
      `FROM audit_chain_heads WHERE lane = ?${forUpdate(dialect)}`;
    const [head] = await manager.query<LockedHead[]>(sql, [lane]);
    if (head) return head;
    await this.ensureLanes();
    const [created] = await manager.query<LockedHead[]>(sql, [lane]);
    return created;
  }

  private async ensureLanes(): Promise<void> {
    const repository = this.dataSource.getRepository(AuditChainHead);
    const existing = new Set(
      (await repository.find({ select: { lane: true } })).map((h) => h.lane),
    );
    for (let lane = 0; lane < this.config.lanes; lane++) {
      if (existing.has(lane)) continue;
      await this.transactions
        .run((manager) =>
          manager.insert(AuditChainHead, { lane, lastLaneSeq: '0', lastSeq: null, lastHash: null }),
        )
        .catch(() => undefined); // another instance created it first
    }
  }
}

/**
 * Group commits in flight at once (each on its own lane) and events per group. Each group costs
 * the same five statements whatever its size, so fewer, larger groups leave more CPU to the
 * requests: service reads ran at 0.52-0.56x the floor with 4 in flight, 0.66x with 2 and
 * 0.62-0.65x with 1 (npm run bench -- reveal, docs/performance.md), with no worse p99.
 */
const MAX_GROUP_COMMITS = 2;
const MAX_GROUP_SIZE = 200;

interface PendingEvent {
  input: AuditEventInput;
  resolve: () => void;
  reject: (error: unknown) => void;
}

function clip(value: string | null | undefined, max: number): string | null {
  return value === undefined || value === null || value === '' ? null : value.slice(0, max);
}
