import { loggableError } from '../common/errors/loggable-error';
import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { Interval } from '@nestjs/schedule';
import { auditConfig } from '../config/audit.config';
import { KeyringService } from '../crypto/keyring.service';
import { dialectOf, toDate, utcNowSql } from '../database/dialect';
import { TransactionRunner } from '../database/transaction-runner';
import { AuditSigningKeys } from './audit-signing-keys';
import { AuditWriter } from './audit-writer';
import { canonicalCheckpointLanes, CheckpointLane } from './chain/audit-chain';
import { signCheckpointEd25519 } from './chain/checkpoint-signature';
import { AuditChainHead } from './entities/audit-chain-head.entity';
import { AuditCheckpoint } from './entities/audit-checkpoint.entity';
import { AuditOutbox } from './outbox/audit-outbox';

/** How often the schedule asks whether a checkpoint is due; the interval itself is configured. */
export const CHECKPOINT_TICK_MS = 1000;

/**
 * Every N events or M minutes, signs the head of every lane with Ed25519 and sends the statement
 * to the log and the sinks. A copy kept outside the database then shows, to anyone holding the
 * public key, whether the chain's tail was cut off.
 */
@Injectable()
export class AuditCheckpointer implements OnApplicationShutdown {
  private readonly logger = new Logger(AuditCheckpointer.name);
  private sinceLast = 0;
  private lastAt = Date.now();
  private running?: Promise<AuditCheckpoint | null>;

  constructor(
    private readonly transactions: TransactionRunner,
    private readonly keyring: KeyringService,
    private readonly signingKeys: AuditSigningKeys,
    private readonly outbox: AuditOutbox,
    writer: AuditWriter,
    @Inject(auditConfig.KEY) private readonly config: ConfigType<typeof auditConfig>,
  ) {
    writer.onRecorded((count) => {
      this.sinceLast += count;
      if (this.sinceLast >= this.config.checkpointEveryEvents) void this.checkpoint();
    });
  }

  /**
   * A fixed schedule that checks a configured interval: @Interval takes a constant, and the
   * tick costs nothing until a checkpoint is due.
   */
  @Interval('audit-checkpoint', CHECKPOINT_TICK_MS)
  tick(now = Date.now()): Promise<AuditCheckpoint | null> | null {
    if (now - this.lastAt < this.config.checkpointIntervalMs) return null;
    return this.checkpoint();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.running;
  }

  /** Writes a checkpoint when any lane moved since the last one; never throws. */
  checkpoint(): Promise<AuditCheckpoint | null> {
    this.running ??= this.write()
      .catch((error: unknown) => {
        this.logger.error({ err: loggableError(error) }, 'Audit checkpoint failed');
        return null;
      })
      .finally(() => (this.running = undefined));
    return this.running;
  }

  private async write(): Promise<AuditCheckpoint | null> {
    if (this.keyring.isSealed()) return null;
    this.sinceLast = 0;
    this.lastAt = Date.now();
    const { keyId, privateKey } = this.signingKeys.current();
    const checkpoint = await this.transactions.run(async (manager) => {
      const heads = await manager.find(AuditChainHead, { order: { lane: 'ASC' } });
      const lanes: CheckpointLane[] = heads.map((h) => ({
        lane: h.lane,
        laneSeq: String(h.lastLaneSeq),
        seq: h.lastSeq === null ? null : String(h.lastSeq),
        hash: h.lastHash,
      }));
      const lanesText = canonicalCheckpointLanes(lanes);
      const [previous] = await manager.find(AuditCheckpoint, { order: { id: 'DESC' }, take: 1 });
      if (previous?.lanes === lanesText) return null;
      const [{ now }] = await manager.query<{ now: Date | string }[]>(
        `SELECT ${utcNowSql(dialectOf(manager))} AS now`,
      );
      const createdAt = toDate(now);
      const headSeq = lanes.reduce<string | null>(
        (max, l) => (l.seq !== null && (max === null || BigInt(l.seq) > BigInt(max)) ? l.seq : max),
        null,
      );
      const row = {
        createdAt,
        headSeq,
        lanes: lanesText,
        keyId,
        algorithm: 'Ed25519' as const,
        signature: signCheckpointEd25519(privateKey, createdAt, headSeq, lanes),
      };
      const inserted = await manager.insert(AuditCheckpoint, row);
      const id = String((inserted.identifiers[0] as { id: string | number }).id);
      const statement = {
        type: 'audit.checkpoint',
        id,
        ...row,
        createdAt: createdAt.toISOString(),
        lanes,
      };
      await this.outbox.enqueue(manager, 'audit.checkpoint', () => [JSON.stringify(statement)]);
      return Object.assign(new AuditCheckpoint(), row, { id });
    });
    if (checkpoint) {
      this.logger.log(
        {
          auditCheckpoint: {
            id: checkpoint.id,
            headSeq: checkpoint.headSeq,
            signature: checkpoint.signature,
          },
        },
        'Audit checkpoint',
      );
    }
    return checkpoint;
  }
}
