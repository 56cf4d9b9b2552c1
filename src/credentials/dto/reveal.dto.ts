import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsString, Matches, Max, MaxLength, Min, MinLength } from 'class-validator';
import { IsOptionalNotNull } from '../../common/validation/is-optional-not-null';
import { VERSION_STATES, VersionState } from '../entities/credential-version.entity';
import { CREDENTIAL_TYPES, CredentialType } from '../secrets/credential-type';

export class RevealRequestDto {
  @ApiPropertyOptional({ description: 'Default: the current version', minimum: 1 })
  @IsOptionalNotNull()
  @IsInt()
  @Min(1)
  @Max(2_147_483_647)
  version?: number;

  @ApiPropertyOptional({ maxLength: 500, description: 'Why; recorded in the audit log' })
  @IsOptionalNotNull()
  @IsString()
  @MinLength(1)
  @MaxLength(500)
  @Matches(/\S/, { message: 'reason must not be blank' })
  reason?: string;
}

/** The only response that carries plaintext. */
export class RevealResponseDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() path!: string;
  @ApiProperty({ enum: CREDENTIAL_TYPES }) type!: CredentialType;
  @ApiProperty() version!: number;
  @ApiProperty({ enum: VERSION_STATES }) state!: VersionState;
  @ApiPropertyOptional({
    description:
      'The login this version’s secret goes with, when the credential has a username: the credential’s for the current version; for an older one, the user it belonged to (the mariadb rotator’s alternating users switch the username). Use it rather than the metadata’s, which may already name the next user.',
  })
  username?: string;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'The secret, shaped by type',
  })
  secret!: Record<string, unknown>;
}
