import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayUnique,
  IsArray,
  IsIn,
  IsInt,
  IsISO8601,
  IsObject,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';
import { MAX_PATH_LENGTH } from '../../auth/grants/path-pattern';
import { IsOptionalNotNull } from '../../common/validation/is-optional-not-null';
import type { JsonObject } from '../entities/credential.entity';
import { CREDENTIAL_TYPES, CredentialType } from '../secrets/credential-type';
import { IsCredentialPath, IsSmallJsonObject, METADATA_MAX_BYTES } from './credential-validators';
import { secretShapesOneOf } from './secret-shapes.dto';

export const MAX_TAGS = 20;

// 20 tags of 50 characters, comma-joined, fit the 1100-character copy on the credential row.
const TAG = /^[a-z0-9][a-z0-9._:-]{0,49}$/;
const HOST = /^[A-Za-z0-9]([A-Za-z0-9.:_-]{0,253}[A-Za-z0-9])?$|^\[[0-9A-Fa-f:.]+\]$/;

const PATH_HELP =
  "Unique. Lower-case segments of a-z, 0-9, '.', '_', '-' joined by '/', e.g. acme/prod/mysql-root; grants select credentials by it.";

/** Plaintext facts about a credential: never put secret material in them. */
export class CredentialFieldsDto {
  @ApiPropertyOptional({ maxLength: 2000, nullable: true, type: String })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  description?: string | null;

  @ApiPropertyOptional({ maxLength: 255, nullable: true, type: String, example: 'root' })
  @IsOptional()
  @IsString()
  @MaxLength(255)
  username?: string | null;

  @ApiPropertyOptional({
    maxLength: 2048,
    nullable: true,
    type: String,
    example: 'https://db.acme.example',
  })
  @IsOptional()
  // No user:password@ in a plaintext field: that is what the secret is for.
  @IsUrl({ require_tld: false, require_protocol: true, disallow_auth: true })
  @MaxLength(2048)
  url?: string | null;

  @ApiPropertyOptional({
    maxLength: 255,
    nullable: true,
    type: String,
    example: 'db1.acme.internal',
  })
  @IsOptional()
  @Matches(HOST, { message: 'host must be a host name or an IP address' })
  @MaxLength(255)
  host?: string | null;

  @ApiPropertyOptional({ minimum: 1, maximum: 65535, nullable: true, type: Number, example: 3306 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(65535)
  port?: number | null;

  @ApiPropertyOptional({
    maxLength: 255,
    nullable: true,
    type: String,
    example: 'dba-team@acme.example',
  })
  @IsOptional()
  @IsString()
  @MaxLength(255)
  owner?: string | null;

  @ApiPropertyOptional({
    type: [String],
    maxItems: MAX_TAGS,
    example: ['mysql', 'prod'],
    description: "Each 1-50 characters of a-z, 0-9, '.', '_', ':', '-'; [] clears them",
  })
  @IsOptionalNotNull()
  @IsArray()
  @ArrayMaxSize(MAX_TAGS)
  @ArrayUnique()
  @Matches(TAG, {
    each: true,
    message: "each tag must be 1-50 characters of a-z, 0-9, '.', '_', ':', '-'",
  })
  tags?: string[];

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    nullable: true,
    description: `Free JSON (at most ${METADATA_MAX_BYTES} bytes), stored in plaintext: never secret material`,
  })
  @IsOptional()
  @IsSmallJsonObject()
  metadata?: JsonObject | null;

  @ApiPropertyOptional({
    format: 'date-time',
    nullable: true,
    type: String,
    description:
      'When the credential expires; certificates and JWTs set it from the secret unless given',
  })
  @IsOptional()
  @IsISO8601({ strict: true })
  expiresAt?: string | null;
}

export class CredentialCreateDto extends CredentialFieldsDto {
  @ApiProperty({
    example: 'acme/prod/mysql-root',
    maxLength: MAX_PATH_LENGTH,
    description: PATH_HELP,
  })
  @IsString()
  @IsCredentialPath()
  path!: string;

  @ApiProperty({ maxLength: 200, example: 'ACME production MySQL root' })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name!: string;

  @ApiProperty({ enum: CREDENTIAL_TYPES })
  @IsIn(CREDENTIAL_TYPES)
  type!: CredentialType;

  @ApiProperty({
    description: 'The secret, shaped by type; checked by the server and never returned here',
    oneOf: secretShapesOneOf(),
  })
  @IsObject()
  secret!: Record<string, unknown>;
}

/** Metadata changes; null clears a field. A new path needs `write` on the old and the new one. */
export class CredentialUpdateDto extends CredentialFieldsDto {
  @ApiPropertyOptional({ maxLength: 200, example: 'ACME production MySQL root' })
  @IsOptionalNotNull()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name?: string;

  @ApiPropertyOptional({ maxLength: MAX_PATH_LENGTH, description: PATH_HELP })
  @IsOptionalNotNull()
  @IsString()
  @IsCredentialPath()
  path?: string;
}

export class SecretUpdateDto {
  @ApiProperty({
    description: "The new secret, in the credential type's shape",
    oneOf: secretShapesOneOf(),
  })
  @IsObject()
  secret!: Record<string, unknown>;
}
