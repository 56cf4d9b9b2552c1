import { QueryInteger } from '../../common/validation/query-transforms';
import { ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsIn,
  IsInt,
  IsISO8601,
  IsNotEmpty,
  IsOptional,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { AUDIT_ACTOR_TYPES, AUDIT_OUTCOMES } from '../entities/audit-event.entity';
import type { AuditActorType, AuditOutcome } from '../entities/audit-event.entity';

export const AUDIT_PAGE_MAX = 500;

/** Filters shared by the list and the export. */
export class AuditEventFilterDto {
  @ApiPropertyOptional({ description: 'Actor id (user or service account id)' })
  @IsOptional()
  @IsNotEmpty()
  @MaxLength(64)
  actorId?: string;

  @ApiPropertyOptional({ enum: AUDIT_ACTOR_TYPES })
  @IsOptional()
  @IsIn(AUDIT_ACTOR_TYPES)
  actorType?: AuditActorType;

  @ApiPropertyOptional({
    description: 'Action or action prefix, e.g. `credential.` or `credential.reveal`',
  })
  @IsOptional()
  @Matches(/^[a-z0-9_.-]{1,128}$/, { message: 'action must be a dotted action name or prefix' })
  action?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsNotEmpty()
  @MaxLength(64)
  resourceType?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsNotEmpty()
  @MaxLength(191)
  resourceId?: string;

  @ApiPropertyOptional({ enum: AUDIT_OUTCOMES })
  @IsOptional()
  @IsIn(AUDIT_OUTCOMES)
  outcome?: AuditOutcome;

  @ApiPropertyOptional({ description: 'From this time (inclusive), ISO 8601' })
  @IsOptional()
  @IsISO8601({ strict: true })
  from?: string;

  @ApiPropertyOptional({ description: 'Before this time (exclusive), ISO 8601' })
  @IsOptional()
  @IsISO8601({ strict: true })
  to?: string;
}

export class AuditEventQueryDto extends AuditEventFilterDto {
  @ApiPropertyOptional({ default: 100, maximum: AUDIT_PAGE_MAX })
  @IsOptional()
  @QueryInteger()
  @IsInt()
  @Min(1)
  @Max(AUDIT_PAGE_MAX)
  limit?: number;

  @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
  @IsOptional()
  @Matches(/^\d{1,19}$/, { message: 'cursor must be the nextCursor of a previous page' })
  cursor?: string;

  @ApiPropertyOptional({ enum: ['desc', 'asc'], default: 'desc', description: 'By sequence' })
  @IsOptional()
  @IsIn(['desc', 'asc'])
  order?: 'desc' | 'asc';
}
