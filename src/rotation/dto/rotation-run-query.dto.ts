import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsISO8601, IsOptional, IsUUID, Max, Min } from 'class-validator';
import { IsPageCursor, PageCursor } from '../../common/pagination/page-cursor';
import { QueryInteger } from '../../common/validation/query-transforms';
import { RUN_STATUSES, RUN_TRIGGERS, RunStatus, RunTrigger } from '../entities/rotation-run.entity';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Newest first; a cursor holds the start time (ms) and id of a page's last run. */
export const RUN_CURSOR = new PageCursor('rotation-runs', (key) => {
  const [ms, id] = key.split('|');
  return /^\d{1,15}$/.test(ms ?? '') && UUID.test(id ?? '');
});
export const RUN_PAGE_MAX = 200;
export const RUN_PAGE_DEFAULT = 50;

export class RunPageQueryDto {
  @ApiPropertyOptional({ default: RUN_PAGE_DEFAULT, maximum: RUN_PAGE_MAX })
  @IsOptional()
  @QueryInteger()
  @IsInt()
  @Min(1)
  @Max(RUN_PAGE_MAX)
  limit?: number;

  @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
  @IsOptional()
  @IsPageCursor(RUN_CURSOR)
  cursor?: string;
}

export class RunListQueryDto extends RunPageQueryDto {
  @ApiPropertyOptional({ enum: RUN_STATUSES })
  @IsOptional()
  @IsIn(RUN_STATUSES)
  status?: RunStatus;

  @ApiPropertyOptional({ enum: RUN_TRIGGERS })
  @IsOptional()
  @IsIn(RUN_TRIGGERS)
  trigger?: RunTrigger;

  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID('4')
  credentialId?: string;

  @ApiPropertyOptional({ description: 'Started at or after (ISO 8601)', format: 'date-time' })
  @IsOptional()
  @IsISO8601({ strict: true })
  from?: string;

  @ApiPropertyOptional({ description: 'Started before (ISO 8601)', format: 'date-time' })
  @IsOptional()
  @IsISO8601({ strict: true })
  to?: string;
}
