import { QueryBoolean, QueryInteger } from '../../common/validation/query-transforms';
import { ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsISO8601,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';
import { pathProblem } from '../../auth/grants/path-pattern';
import { IsPageCursor, PageCursor } from '../../common/pagination/page-cursor';
import { ROTATION_STATUSES, RotationStatus } from '../entities/credential.entity';
import { CREDENTIAL_TYPES, CredentialType } from '../secrets/credential-type';

/** Pages are ordered by path; a cursor holds the last path of its page. */
export const CREDENTIAL_CURSOR = new PageCursor(
  'credentials',
  (path) => pathProblem(path) === undefined,
);
export const CREDENTIAL_PAGE_MAX = 200;
export const CREDENTIAL_PAGE_DEFAULT = 50;

export class CredentialListQueryDto {
  // No `example` on optional filters: Swagger UI would pre-fill it and "Try it out" would
  // silently filter the list.
  @ApiPropertyOptional({ description: 'Paths starting with this, e.g. `acme/prod/`' })
  @IsOptional()
  @Matches(/^[a-z0-9._/-]{1,255}$/, {
    message: "pathPrefix may only hold a-z, 0-9, '.', '_', '-', '/'",
  })
  pathPrefix?: string;

  @ApiPropertyOptional({ enum: CREDENTIAL_TYPES })
  @IsOptional()
  @IsIn(CREDENTIAL_TYPES)
  type?: CredentialType;

  @ApiPropertyOptional({ description: 'Credentials with this tag, e.g. `prod`' })
  @IsOptional()
  @Matches(/^[a-z0-9][a-z0-9._:-]{0,49}$/, { message: 'tag is not a valid tag' })
  tag?: string;

  @ApiPropertyOptional({ description: 'Expiring before this time (ISO 8601)', format: 'date-time' })
  @IsOptional()
  @IsISO8601({ strict: true })
  expiringBefore?: string;

  @ApiPropertyOptional({
    description: 'Due for rotation at or before this time (ISO 8601): nextRotationAt <= it',
    format: 'date-time',
  })
  @IsOptional()
  @IsISO8601({ strict: true })
  rotationDueBefore?: string;

  @ApiPropertyOptional({ enum: ROTATION_STATUSES })
  @IsOptional()
  @IsIn(ROTATION_STATUSES)
  rotationStatus?: RotationStatus;

  @ApiPropertyOptional({ description: 'Text in the name or path (case-insensitive)' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  q?: string;

  @ApiPropertyOptional({ description: 'List soft-deleted credentials instead', default: false })
  @IsOptional()
  @QueryBoolean()
  @IsBoolean()
  deleted?: boolean;

  @ApiPropertyOptional({ default: CREDENTIAL_PAGE_DEFAULT, maximum: CREDENTIAL_PAGE_MAX })
  @IsOptional()
  @QueryInteger()
  @IsInt()
  @Min(1)
  @Max(CREDENTIAL_PAGE_MAX)
  limit?: number;

  @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
  @IsOptional()
  @IsPageCursor(CREDENTIAL_CURSOR)
  cursor?: string;
}
