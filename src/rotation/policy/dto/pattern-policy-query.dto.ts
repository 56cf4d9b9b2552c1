import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { isValidPathPattern } from '../../../auth/grants/path-pattern';
import { IsPageCursor, PageCursor } from '../../../common/pagination/page-cursor';
import { QueryInteger } from '../../../common/validation/query-transforms';

/** Pattern policies are listed by pattern; a cursor holds the last pattern of its page. */
export const PATTERN_POLICY_CURSOR = new PageCursor('rotation-policies', isValidPathPattern);
export const PATTERN_POLICY_PAGE_MAX = 500;

export class PatternPolicyListQueryDto {
  @ApiPropertyOptional({ default: 100, maximum: PATTERN_POLICY_PAGE_MAX })
  @IsOptional()
  @QueryInteger()
  @IsInt()
  @Min(1)
  @Max(PATTERN_POLICY_PAGE_MAX)
  limit?: number;

  @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
  @IsOptional()
  @IsPageCursor(PATTERN_POLICY_CURSOR)
  cursor?: string;
}
