import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleInit } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHmac, randomInt } from 'node:crypto';
import { DataSource, EntityManager, EntitySubscriberInterface, QueryRunner } from 'typeorm';
import { auditConfig } from '../config/audit.config';
import { KeyringService } from '../crypto/keyring.service';
import {
  Dialect,
  dialectOf,
  forUpdate,
  isDeadlock,
  shareLock,
  toDate,
  utcNowSql,
} from '../database/dialect';
import { TransactionRunner } from '../database/transaction-runner';
import { ANONYMOUS, AuditEventInput, SYSTEM } from './audit-context';
import { HashedEvent, insertAuditEvents } from './audit-event.sql';
import { AuditMetrics } from './audit-metrics';
import { sanitizeDetails } from './audit-sanitizer';
import { toEventRecord } from './audit-event.record';
import { ChainedEvent, chainHash } from './chain/audit-chain';
import { canonicalJson } from './chain/canonical-json';
import { AuditOutbox } from './outbox/audit-outbox';

interface LockedHead {
  lastLaneSeq: string | number;
  lastHash: string | null;
  now: Date | string;
}

/** The last event of a lane, from which a missing head is re-created. */
interface LaneTail {
  laneSeq: string | number;
  seq: string | number;
  hash: string;
}

/**
 * A missing head row this transaction could not re-create: another one re-creating it at the
 * same moment made the database abort this one (a deadlock, reported at once), or the row is
 * still missing. The transaction has been rolled back; running it again finds the head.
 */
export class AuditHeadUnavailableError extends Error {
  constructor(
    readonly lane: number,
    options?: ErrorOptions,
  ) {
    super(`the head of audit lane ${lane} is missing and could not be re-created`, options);
  }
}

/**
 * Writes audit events, hash-chained, inside the caller's transaction: the event commits with the
 * change it describes or not at all, and if it cannot be written the caller's work fails too.
 *
 * Concurrency: events are spread over N independent chains (lanes). A writer locks the head row
 * of one lane for its transaction, so writers on different lanes never wait for each other and
 * one lock does not cap throughput; verification walks every lane. Call record() after the
 * transaction's other writes, so locks are always taken in the order domain rows, then lane.
 *
 * A request's context is marked `recorded` only once the transaction holding its event has
 * committed: until then the event may still be rolled back, and the HTTP capture must remain free
 * to record the request's failure instead.
 */
@Injectable()
export class AuditWriter implements OnModuleInit, OnApplicationBootstrap {
  private readonly logger = new Logger(AuditWriter.name);
  private readonly lanes = new WeakMap<EntityManager, number>();
  /** What waits for a transaction holding events to commit, by that transaction's runner. */
  private readonly awaitingCommit = new WeakMap<QueryRunner, (() => void)[]>();
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

  onModuleInit(): void {
    // A subscriber sees the commit of every transaction, however it was started (runner, service
    // or TypeORM directly), so no caller has to remember to report its commit here.
    this.dataSource.subscribers.push(this.commitWatcher());
  }

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
    if (manager) {
      await this.append(manager, [input]);
      return;
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      this.flush();
    });
  }

  /**
   * Several events in `manager`'s transaction under one lock of one lane: for jobs that change
   * many rows in a batch and record an event for each. Answers the events' seqs, in order, so a
   * row that tells the same story (an incident's timeline entry) can point at its event.
   */
  async recordAll(inputs: AuditEventInput[], manager: EntityManager): Promise<string[]> {
    return inputs.length > 0 ? this.append(manager, inputs) : [];
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
      this.runGroup(group.map((pending) => pending.input))
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

  /**
   * One group commit. Its transaction holds nothing but audit rows, so it can simply run again
   * when it lost the race to re-create a missing head; a short random pause lets the winner
   * commit first.
   */
  private async runGroup(inputs: AuditEventInput[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.transactions.run((manager) => this.append(manager, inputs));
        return;
      } catch (error) {
        if (attempt >= GROUP_ATTEMPTS || !(error instanceof AuditHeadUnavailableError)) throw error;
        await new Promise((resolve) => setTimeout(resolve, randomInt(5, 5 + 20 * attempt)));
      }
    }
  }

  /** Chains and inserts events under one lock of one lane head; answers the seqs of `given`. */
  private async append(manager: EntityManager, given: AuditEventInput[]): Promise<string[]> {
    const { keyId, key } = this.keyring.currentPurposeKey('audit-chain');
    const lane = this.laneFor(manager);
    const { head, recreatedFrom } = await this.lockHead(manager, lane);
    // A re-created head is itself a fact for the log: the lane says where it was picked up.
    const inputs =
      recreatedFrom === undefined ? given : [headRecreatedEvent(lane, recreatedFrom), ...given];
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
    await this.outbox.enqueue(manager, 'audit.event', () =>
      chained.map((event, i) =>
        JSON.stringify({ type: 'audit.event', ...toEventRecord({ ...event, seq: seqs[i] }) }),
      ),
    );
    this.afterCommit(manager, () => {
      for (const input of inputs) {
        if (input.context) input.context.recorded = true;
        this.metrics.events.inc({ outcome: input.outcome });
      }
      for (const listener of this.listeners) listener(inputs.length);
    });
    return seqs.slice(inputs.length - given.length);
  }

  /**
   * Runs `done` once the transaction holding the events has committed, never for an attempt that
   * rolled back: the TransactionRunner may run the same unit of work again, and its events would
   * otherwise be counted (and their requests marked recorded) once per attempt.
   */
  private afterCommit(manager: EntityManager, done: () => void): void {
    const runner = manager.queryRunner;
    if (!runner?.isTransactionActive) {
      // No transaction around the write: each statement committed on its own.
      done();
      return;
    }
    const waiting = this.awaitingCommit.get(runner);
    if (waiting) waiting.push(done);
    else this.awaitingCommit.set(runner, [done]);
  }

  private commitWatcher(): EntitySubscriberInterface {
    return {
      afterTransactionCommit: ({ queryRunner }) => {
        // Still active: a savepoint was released, the transaction itself is still open.
        if (queryRunner.isTransactionActive) return;
        const done = this.awaitingCommit.get(queryRunner);
        if (!done) return;
        this.awaitingCommit.delete(queryRunner);
        for (const action of done) action();
      },
      afterTransactionRollback: ({ queryRunner }) => {
        if (!queryRunner.isTransactionActive) this.awaitingCommit.delete(queryRunner);
      },
    };
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

  /**
   * Locks the lane's head for this transaction. A missing head (deleted by hand: a trigger
   * refuses it otherwise) is re-created here, inside this same transaction, from the lane's last
   * event. Creating it from another connection would wait on the gap lock this transaction's
   * own locking read just took, until the lock wait timeout.
   */
  private async lockHead(
    manager: EntityManager,
    lane: number,
  ): Promise<{ head: LockedHead; recreatedFrom?: string }> {
    const dialect = dialectOf(manager);
    const sql =
      `SELECT last_lane_seq AS lastLaneSeq, last_hash AS lastHash, ${utcNowSql(dialect)} AS now ` +
      `FROM audit_chain_heads WHERE lane = ?${forUpdate(dialect)}`;
    const [head] = await manager.query<LockedHead[]>(sql, [lane]);
    if (head) return { head };
    const created = await this.createHead(manager, lane);
    const [locked] = await manager.query<LockedHead[]>(sql, [lane]);
    if (!locked) throw new AuditHeadUnavailableError(lane);
    if (created === undefined) return { head: locked };
    this.logger.warn(
      `The head of audit lane ${lane} was missing; re-created at lane_seq ${created} from the lane's last event`,
    );
    return { head: locked, recreatedFrom: created };
  }

  /**
   * Inserts the lane's head at its last event unless another transaction has one already.
   * Returns the lane_seq it was created at, or undefined when the row was there.
   */
  private async createHead(manager: EntityManager, lane: number): Promise<string | undefined> {
    const dialect = dialectOf(manager);
    // A locking read sees the latest committed tail, not this transaction's older snapshot.
    const [tail] = await manager.query<LaneTail[]>(
      'SELECT lane_seq AS laneSeq, seq, hash FROM audit_events WHERE lane = ? ' +
        `ORDER BY lane_seq DESC LIMIT 1${shareLock(dialect)}`,
      [lane],
    );
    const laneSeq = tail ? String(tail.laneSeq) : '0';
    const runner = manager.queryRunner;
    if (!runner) throw new Error('AuditWriter needs the EntityManager of a transaction');
    // Two transactions that both found the head missing each hold a gap lock where it goes,
    // so each one's insert waits for the other: the database aborts one at once.
    const result = await runner
      .query(
        insertHeadUnlessPresent(dialect),
        [lane, laneSeq, tail ? String(tail.seq) : null, tail?.hash ?? null],
        true,
      )
      .catch((error: unknown) => {
        throw isDeadlock(error) ? new AuditHeadUnavailableError(lane, { cause: error }) : error;
      });
    return (result as { affected?: number }).affected ? laneSeq : undefined;
  }

  /**
   * At start-up: a head for every configured lane that has none and no events yet. A lane with
   * events but no head gets it back, with an event saying so, at its next write.
   */
  private async ensureLanes(): Promise<void> {
    const dialect = dialectOf(this.dataSource);
    const heads = await this.dataSource.query<{ lane: number | string }[]>(
      'SELECT lane FROM audit_chain_heads',
    );
    const present = new Set(heads.map((head) => Number(head.lane)));
    for (let lane = 0; lane < this.config.lanes; lane++) {
      if (present.has(lane)) continue;
      const used = await this.dataSource.query<unknown[]>(
        'SELECT 1 FROM audit_events WHERE lane = ? LIMIT 1',
        [lane],
      );
      if (used.length > 0) {
        this.logger.warn(
          `Audit lane ${lane} has events but no head row; it is re-created at the lane's next write`,
        );
        continue;
      }
      // Another instance may create it at the same moment: the second insert is ignored.
      await this.transactions.run((manager) =>
        manager.query(insertHeadUnlessPresent(dialect), [lane, '0', null, null]),
      );
    }
  }
}

function insertHeadUnlessPresent(dialect: Dialect): string {
  const columns = '(lane, last_lane_seq, last_seq, last_hash) VALUES (?, ?, ?, ?)';
  return dialect === 'mariadb'
    ? `INSERT IGNORE INTO audit_chain_heads ${columns}`
    : `INSERT INTO audit_chain_heads ${columns} ON CONFLICT (lane) DO NOTHING`;
}

function headRecreatedEvent(lane: number, laneSeq: string): AuditEventInput {
  return {
    action: 'audit.head.recreated',
    outcome: 'success',
    actor: SYSTEM,
    resourceType: 'audit_lane',
    resourceId: String(lane),
    details: { lane, laneSeq, reason: 'the head row was missing' },
  };
}

/**
 * Group commits in flight at once (each on its own lane) and events per group. Each group costs
 * the same five statements whatever its size, so fewer, larger groups leave more CPU to the
 * requests: service reads ran at 0.52-0.56x the floor with 4 in flight, 0.66x with 2 and
 * 0.62-0.65x with 1 (npm run bench -- reveal, docs/performance.md), with no worse p99.
 */
const MAX_GROUP_COMMITS = 2;
const MAX_GROUP_SIZE = 200;
const GROUP_ATTEMPTS = 5;

interface PendingEvent {
  input: AuditEventInput;
  resolve: () => void;
  reject: (error: unknown) => void;
}

function clip(value: string | null | undefined, max: number): string | null {
  return value === undefined || value === null || value === '' ? null : value.slice(0, max);
}
