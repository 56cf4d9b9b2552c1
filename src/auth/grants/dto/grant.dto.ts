import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayNotEmpty,
  ArrayUnique,
  IsArray,
  IsIn,
  IsOptional,
  IsString,
  IsUUID,
} from 'class-validator';
import { orderedCapabilities, parseCapabilities } from '../access-policy';
import { GRANT_PRINCIPAL_TYPES } from '../access-grant.entity';
import { CAPABILITIES } from '../../../common/auth/access-vocabulary';
import type { AccessGrant, GrantPrincipalType } from '../access-grant.entity';
import type { Capability } from '../../../common/auth/access-vocabulary';
import { IsPathPattern, PATH_PATTERN_HELP } from '../is-path-pattern';
import { MAX_PATH_LENGTH } from '../path-pattern';

export class GrantCreateDto {
  @ApiProperty({ enum: GRANT_PRINCIPAL_TYPES })
  @IsIn(GRANT_PRINCIPAL_TYPES)
  principalType!: GrantPrincipalType;

  @ApiProperty({ format: 'uuid', description: 'Id of the user or service account' })
  @IsUUID('4')
  principalId!: string;

  @ApiProperty({
    example: 'acme/prod/*',
    maxLength: MAX_PATH_LENGTH,
    description: PATH_PATTERN_HELP,
  })
  @IsString()
  @IsPathPattern()
  pathPattern!: string;

  @ApiProperty({
    enum: CAPABILITIES,
    isArray: true,
    minItems: 1,
    maxItems: CAPABILITIES.length,
    uniqueItems: true,
    example: ['read', 'reveal'],
  })
  @IsArray()
  @ArrayNotEmpty()
  @ArrayMaxSize(CAPABILITIES.length)
  @ArrayUnique()
  @IsIn(CAPABILITIES, { each: true })
  capabilities!: Capability[];
}

export class GrantListQueryDto {
  @ApiPropertyOptional({ enum: GRANT_PRINCIPAL_TYPES })
  @IsOptional()
  @IsIn(GRANT_PRINCIPAL_TYPES)
  principalType?: GrantPrincipalType;

  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID('4')
  principalId?: string;
}

export class GrantResponseDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ enum: GRANT_PRINCIPAL_TYPES }) principalType!: GrantPrincipalType;
  @ApiProperty({ format: 'uuid' }) principalId!: string;
  @ApiProperty({ example: 'acme/prod/*' }) pathPattern!: string;
  @ApiProperty({ enum: CAPABILITIES, isArray: true, example: ['read', 'reveal'] })
  capabilities!: Capability[];
  @ApiProperty({ nullable: true, type: String, format: 'uuid', description: 'Who created it' })
  createdBy!: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;

  static from(grant: AccessGrant): GrantResponseDto {
    return {
      id: grant.id,
      principalType: grant.principalType,
      principalId: grant.principalId,
      pathPattern: grant.pathPattern,
      capabilities: orderedCapabilities(parseCapabilities(grant.capabilities)),
      createdBy: grant.createdBy,
      createdAt: grant.createdAt.toISOString(),
    };
  }
}

export class GrantPageDto {
  @ApiProperty({ type: [GrantResponseDto], description: 'At most 500, oldest first' })
  items!: GrantResponseDto[];
  @ApiProperty({ nullable: true, type: String, description: 'Always null: one page' })
  nextCursor!: null;
}
