import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { IsOptionalNotNull } from '../../common/validation/is-optional-not-null';
import { VERSION_STATES, VersionState } from '../../credentials/entities/credential-version.entity';

/** The most text one scan reads, in UTF-8 bytes; more answers 413. */
export const SCAN_MAX_BYTES = 256 * 1024;

export class LeakScanRequestDto {
  @ApiProperty({
    maxLength: SCAN_MAX_BYTES,
    description: `Text to look for stored secrets in (at most ${SCAN_MAX_BYTES / 1024} KiB), e.g. a staged diff. Never stored or logged.`,
  })
  @IsString()
  text!: string;

  @ApiPropertyOptional({
    description:
      'Open a credential_leak incident for each credential found and emergency-rotate it (default: SCAN_CONTAIN_BY_DEFAULT)',
  })
  @IsOptionalNotNull()
  @IsBoolean()
  contain?: boolean;
}

export class LeakScanMatchDto {
  @ApiProperty({ format: 'uuid' }) credentialId!: string;
  @ApiProperty() path!: string;
  @ApiProperty() version!: number;
  @ApiProperty({ enum: VERSION_STATES }) state!: VersionState;
}

export class LeakScanResponseDto {
  @ApiProperty({ type: [LeakScanMatchDto], description: 'Matches on credentials you may read' })
  matches!: LeakScanMatchDto[];

  @ApiProperty({ description: 'Matches on credentials you may not read, only counted' })
  otherMatches!: number;

  @ApiProperty({
    description:
      'Distinct candidate strings checked: tokens and their pieces, then every substring of a ' +
      'stored value’s length',
  })
  candidates!: number;

  @ApiProperty({
    description:
      'True when the candidate cap (20,000) stopped the scan before the end of the text: the rest ' +
      'was not looked at; send it in smaller parts (dense text such as lockfiles in about 16 KiB)',
  })
  truncated!: boolean;

  @ApiProperty({ description: 'Whether the hits were contained (incident and emergency rotation)' })
  contained!: boolean;
}

export class LeakScanBypassDto {
  @ApiProperty({
    maxLength: 500,
    description: 'Why the scan was skipped; recorded in the audit log',
  })
  @IsString()
  @MinLength(1)
  @MaxLength(500)
  @Matches(/\S/, { message: 'reason must not be blank' })
  reason!: string;

  @ApiPropertyOptional({ maxLength: 500, description: 'Where (repository, branch); recorded too' })
  @IsOptionalNotNull()
  @IsString()
  @MaxLength(500)
  where?: string;
}
