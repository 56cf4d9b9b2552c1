import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, SelectQueryBuilder } from 'typeorm';
import { dialectOf, likeLiteral, timestampParam, toDate } from '../database/dialect';
import { AuditEventRecord, toEventRecord } from './audit-event.record';
import { AuditEventFilterDto, AuditEventQueryDto } from './dto/audit-event-query.dto';
import { AuditEvent } from './entities/audit-event.entity';

const DEFAULT_PAGE = 100;
const EXPORT_BATCH = 1000;

/** Reads the audit log: filtered pages by keyset on seq, and a streamed export. */
@Injectable()
export class AuditQueryService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async list(
    query: AuditEventQueryDto,
  ): Promise<{ items: AuditEventRecord[]; nextCursor: string | null }> {
    const limit = query.limit ?? DEFAULT_PAGE;
    const descending = (query.order ?? 'desc') === 'desc';
    const builder = this.filtered(query)
      .orderBy('e.seq', descending ? 'DESC' : 'ASC')
      .take(limit + 1);
    if (query.cursor)
      builder.andWhere(descending ? 'e.seq < :cursor' : 'e.seq > :cursor', {
        cursor: query.cursor,
      });
    const rows = await builder.getMany();
    const page = rows.slice(0, limit).map(toRecord);
    return { items: page, nextCursor: rows.length > limit ? page[page.length - 1].seq : null };
  }

  /** Every matching event in seq order, read in batches so memory stays flat. */
  async *export(filter: AuditEventFilterDto): AsyncGenerator<AuditEventRecord> {
    let after = '0';
    for (;;) {
      const rows = await this.filtered(filter)
        .andWhere('e.seq > :after', { after })
        .orderBy('e.seq', 'ASC')
        .take(EXPORT_BATCH)
        .getMany();
      for (const row of rows) yield toRecord(row);
      if (rows.length < EXPORT_BATCH) return;
      after = String(rows[rows.length - 1].seq);
    }
  }

  private filtered(filter: AuditEventFilterDto): SelectQueryBuilder<AuditEvent> {
    const builder = this.dataSource
      .getRepository(AuditEvent)
      .createQueryBuilder('e')
      .where('1 = 1');
    if (filter.actorId) builder.andWhere('e.actorId = :actorId', { actorId: filter.actorId });
    if (filter.actorType)
      builder.andWhere('e.actorType = :actorType', { actorType: filter.actorType });
    if (filter.action) {
      // A prefix match.
      builder.andWhere("e.action LIKE :action ESCAPE '!'", {
        action: `${likeLiteral(filter.action)}%`,
      });
    }
    if (filter.resourceType)
      builder.andWhere('e.resourceType = :resourceType', { resourceType: filter.resourceType });
    if (filter.resourceId)
      builder.andWhere('e.resourceId = :resourceId', { resourceId: filter.resourceId });
    if (filter.outcome) builder.andWhere('e.outcome = :outcome', { outcome: filter.outcome });
    const dialect = dialectOf(this.dataSource);
    if (filter.from)
      builder.andWhere('e.occurredAt >= :from', {
        from: timestampParam(dialect, new Date(filter.from)),
      });
    if (filter.to)
      builder.andWhere('e.occurredAt < :to', { to: timestampParam(dialect, new Date(filter.to)) });
    return builder;
  }
}

function toRecord(row: AuditEvent): AuditEventRecord {
  return toEventRecord({
    ...row,
    seq: String(row.seq),
    laneSeq: String(row.laneSeq),
    occurredAt: toDate(row.occurredAt),
  });
}
