import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsIn,
  IsInt,
  IsISO8601,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { IsPageCursor, PageCursor } from '../../../common/pagination/page-cursor';
import { QueryInteger } from '../../../common/validation/query-transforms';
import { IsOptionalNotNull } from '../../../common/validation/is-optional-not-null';
import { ApiKey } from '../api-key.entity';
import { SERVICE_ACCOUNT_STATUSES, ServiceAccount } from '../service-account.entity';
import type { ServiceAccountStatus } from '../service-account.entity';

const NAME = /^[a-z0-9][a-z0-9._-]{0,99}$/;

/** Service accounts are listed by name; a cursor holds the last name of its page. */
export const SERVICE_ACCOUNT_CURSOR = new PageCursor('service-accounts', (name) => NAME.test(name));
export const SERVICE_ACCOUNT_PAGE_MAX = 500;
export const SERVICE_ACCOUNT_PAGE_DEFAULT = 100;

export class ServiceAccountCreateDto {
  @ApiProperty({
    example: 'billing-api',
    description: 'Lower-case letters, digits, dots, dashes, underscores',
  })
  @Matches(NAME, {
    message: 'name must be 1-100 lower-case letters, digits, ".", "_" or "-"',
  })
  name!: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(500)
  description?: string;
}

export class ServiceAccountUpdateDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(500)
  description?: string;

  @ApiPropertyOptional({
    enum: SERVICE_ACCOUNT_STATUSES,
    description: 'disabled: every key stops working at once',
  })
  @IsOptionalNotNull()
  @IsIn(SERVICE_ACCOUNT_STATUSES)
  status?: ServiceAccountStatus;
}

export class ServiceAccountListQueryDto {
  @ApiPropertyOptional({
    default: SERVICE_ACCOUNT_PAGE_DEFAULT,
    maximum: SERVICE_ACCOUNT_PAGE_MAX,
  })
  @IsOptional()
  @QueryInteger()
  @IsInt()
  @Min(1)
  @Max(SERVICE_ACCOUNT_PAGE_MAX)
  limit?: number;

  @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
  @IsOptional()
  @IsPageCursor(SERVICE_ACCOUNT_CURSOR)
  cursor?: string;
}

export class ApiKeyCreateDto {
  @ApiPropertyOptional({
    format: 'date-time',
    description: 'When the key stops working; none by default',
  })
  @IsOptional()
  @IsISO8601({ strict: true })
  expiresAt?: string;

  @ApiPropertyOptional({ example: 'deploy pipeline' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  label?: string;
}

export class ServiceAccountResponseDto {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ nullable: true, type: String }) description!: string | null;
  @ApiProperty({ enum: SERVICE_ACCOUNT_STATUSES }) status!: ServiceAccountStatus;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;

  static from(account: ServiceAccount): ServiceAccountResponseDto {
    return {
      id: account.id,
      name: account.name,
      description: account.description,
      status: account.status,
      createdAt: account.createdAt.toISOString(),
    };
  }
}

export class ServiceAccountPageDto {
  @ApiProperty({ type: [ServiceAccountResponseDto] }) items!: ServiceAccountResponseDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;
}

export class ApiKeyResponseDto {
  @ApiProperty() id!: string;
  @ApiProperty({ nullable: true, type: String }) label!: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) expiresAt!: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) revokedAt!: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) lastUsedAt!: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;

  static from(key: ApiKey): ApiKeyResponseDto {
    const iso = (date: Date | null) => (date ? date.toISOString() : null);
    return {
      id: key.id,
      label: key.label,
      expiresAt: iso(key.expiresAt),
      revokedAt: iso(key.revokedAt),
      lastUsedAt: iso(key.lastUsedAt),
      createdAt: key.createdAt.toISOString(),
    };
  }
}

export class ApiKeyCreatedDto extends ApiKeyResponseDto {
  @ApiProperty({ description: 'The key itself: shown this once, store it now' }) apiKey!: string;
}

export class ApiKeyListDto {
  @ApiProperty({ type: [ApiKeyResponseDto] }) items!: ApiKeyResponseDto[];
}
