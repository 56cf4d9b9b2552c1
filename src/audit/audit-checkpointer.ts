import { loggableError } from '../common/errors/loggable-error';
import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { auditConfig } from '../config/audit.config';
import { KeyringService } from '../crypto/keyring.service';
import { dialectOf, toDate, utcNowSql } from '../database/dialect';
import { TransactionRunner } from '../database/transaction-runner';
import { AuditWriter } from './audit-writer';
import { canonicalCheckpointLanes, CheckpointLane, signCheckpoint } from './chain/audit-chain';
import { AuditChainHead } from './entities/audit-chain-head.entity';
import { AuditCheckpoint } from './entities/audit-checkpoint.entity';
import { AuditOutbox } from './outbox/audit-outbox';

/**
 * Every N events or M minutes, signs the head of every lane and sends the statement to the log
 * and the sinks. A copy kept outside the database then shows if the chain's tail was cut off.
 */
@Injectable()
export class AuditCheckpointer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(AuditCheckpointer.name);
  private sinceLast = 0;
  private timer?: NodeJS.Timeout;
  private running?: Promise<AuditCheckpoint | null>;

  constructor(
    private readonly transactions: TransactionRunner,
    private readonly keyring: KeyringService,
    private readonly outbox: AuditOutbox,
    writer: AuditWriter,
    @Inject(auditConfig.KEY) private readonly config: ConfigType<typeof auditConfig>,
  ) {
    writer.onRecorded((count) => {
      this.sinceLast += count;
      if (this.sinceLast >= this.config.checkpointEveryEvents) void this.checkpoint();
    });
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.checkpoint(), this.config.checkpointIntervalMs);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
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
    const { keyId, key } = this.keyring.currentPurposeKey('audit-chain');
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
        signature: signCheckpoint(key, createdAt, headSeq, lanesText),
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
      await this.outbox.enqueue(manager, 'audit.checkpoint', [JSON.stringify(statement)]);
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
