import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { IsPageCursor } from '../../common/pagination/page-cursor';
import { QueryInteger } from '../../common/validation/query-transforms';
import {
  ROTATION_STATUSES,
  type RotationStatus,
} from '../../credentials/entities/credential.entity';
import { CREDENTIAL_TYPES, type CredentialType } from '../../credentials/secrets/credential-type';
import { DUE_CURSOR, OVERDUE_CURSOR, ScheduleItem } from '../schedule/rotation-schedule.query';

export const SCHEDULE_PAGE_MAX = 200;
export const SCHEDULE_PAGE_DEFAULT = 50;

class ScheduleQueryDto {
  @ApiPropertyOptional({ default: SCHEDULE_PAGE_DEFAULT, maximum: SCHEDULE_PAGE_MAX })
  @IsOptional()
  @QueryInteger()
  @IsInt()
  @Min(1)
  @Max(SCHEDULE_PAGE_MAX)
  limit?: number;
}

export class RotationDueQueryDto extends ScheduleQueryDto {
  @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
  @IsOptional()
  @IsPageCursor(DUE_CURSOR)
  cursor?: string;
}

export class RotationOverdueQueryDto extends ScheduleQueryDto {
  @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
  @IsOptional()
  @IsPageCursor(OVERDUE_CURSOR)
  cursor?: string;
}

/** One credential on the rotation schedule: metadata only. */
export class RotationScheduleItemDto {
  @ApiProperty({ format: 'uuid', example: '8d0f6a4e-2b1c-4f7e-9a3d-5c6b7a8e9f01' })
  credentialId!: string;

  @ApiProperty({ example: 'acme/prod/mysql-root' }) path!: string;

  @ApiProperty({ enum: CREDENTIAL_TYPES, example: 'password' }) type!: CredentialType;

  @ApiProperty({
    nullable: true,
    type: String,
    format: 'date-time',
    example: '2026-11-28T02:00:00.000Z',
    description: 'When the scheduler rotates it (database clock)',
  })
  nextRotationAt!: string | null;

  @ApiProperty({ enum: ROTATION_STATUSES, example: 'scheduled' }) rotationStatus!: RotationStatus;

  @ApiPropertyOptional({
    example: 5400,
    description:
      'Seconds since it became overdue: ROTATION_OVERDUE_AFTER after nextRotationAt, or the ' +
      "waiting manual run's overdueAt; absent when it is not overdue",
  })
  overdueSeconds?: number;

  @ApiPropertyOptional({
    format: 'uuid',
    example: '3b9e2f7c-6d1a-4c8b-b5e4-0a7f9d2c1e63',
    description: 'The run in flight (running or waiting for a value), if any',
  })
  runId?: string;

  static from(item: ScheduleItem): RotationScheduleItemDto {
    return {
      credentialId: item.credentialId,
      path: item.path,
      type: item.type,
      nextRotationAt: item.nextRotationAt?.toISOString() ?? null,
      rotationStatus: item.rotationStatus,
      ...(item.overdueSeconds === undefined ? {} : { overdueSeconds: item.overdueSeconds }),
      ...(item.runId === undefined ? {} : { runId: item.runId }),
    };
  }
}

export class RotationSchedulePageDto {
  @ApiProperty({ type: [RotationScheduleItemDto] }) items!: RotationScheduleItemDto[];

  @ApiProperty({ nullable: true, type: String, description: 'Pass as cursor for the next page' })
  nextCursor!: string | null;
}
