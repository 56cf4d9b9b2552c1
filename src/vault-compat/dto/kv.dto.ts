import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { SECRET_MAX_BYTES } from '../../credentials/secret-input';
import { KV_MAX_KEYS } from '../../credentials/secrets/kv-secret';
import {
  ArrayMaxSize,
  ArrayNotEmpty,
  IsArray,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';

export class KvWriteOptionsDto {
  @ApiPropertyOptional({
    description: 'Check-and-set: write only if the current version is this one (0: only if none)',
    minimum: 0,
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(2_147_483_647)
  cas?: number;
}

/**
 * The parameters of Vault's KV v2 data route (`version` is for reads, ignored in a write);
 * anything else is ignored with a warning. Unknown keys inside `options` are dropped silently,
 * as Vault's options map is free-form.
 */
export const KV_WRITE_PARAMETERS: readonly string[] = ['data', 'options', 'version'];

/** Vault KV v2's write body. */
export class KvWriteDto {
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'string', maxLength: SECRET_MAX_BYTES },
    maxProperties: KV_MAX_KEYS,
    example: { username: 'app', password: 'pa55' },
    description:
      "The secret; a new credential's type is kv, an existing one keeps its type's shape",
  })
  @IsObject()
  data!: Record<string, unknown>;

  @ApiPropertyOptional({ type: KvWriteOptionsDto })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => KvWriteOptionsDto)
  options?: KvWriteOptionsDto;
}

/** Vault KV v2's destroy body. */
export class KvDestroyDto {
  @ApiProperty({ type: [Number], example: [1, 2] })
  @IsArray()
  @ArrayNotEmpty()
  @ArrayMaxSize(1000)
  @IsInt({ each: true })
  @Min(1, { each: true })
  versions!: number[];
}

/** The AppRole login body. */
export class AppRoleLoginDto {
  @ApiProperty({ description: 'The id of the service account' })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  role_id!: string;

  @ApiProperty({ description: 'One of its active API keys (cus_…)' })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  secret_id!: string;
}
