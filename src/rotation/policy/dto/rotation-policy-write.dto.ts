import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsBoolean, IsOptional, IsString, MaxLength, ValidateNested } from 'class-validator';
import { MAX_PATH_LENGTH } from '../../../auth/grants/path-pattern';
import { IsOptionalNotNull } from '../../../common/validation/is-optional-not-null';
import { IsPathPattern, PATH_PATTERN_HELP } from '../../../auth/grants/is-path-pattern';
import type { RotatorSettings } from '../effective-policy';
import { GeneratorSpecDto } from './generator-spec.dto';
import {
  IsCronSchedule,
  IsPolicyDuration,
  IsRotationInterval,
  IsRotatorSettings,
} from './policy-validators';
import { RotationWindowDto } from './rotation-window.dto';

/** The whole policy: a PUT replaces it, and what is left out takes its default. */
export class RotationPolicyWriteDto {
  @ApiProperty({ example: true, description: 'false keeps the policy but schedules nothing' })
  @IsBoolean()
  enabled!: boolean;

  @ApiPropertyOptional({
    example: 'P30D',
    maxLength: 32,
    nullable: true,
    type: String,
    description:
      'Time between rotations (ISO 8601, at least PT1M). Give this or schedule; neither: the default of the credential type',
  })
  @IsOptional()
  @MaxLength(32)
  @IsRotationInterval()
  interval?: string | null;

  @ApiPropertyOptional({
    example: '0 3 * * sun',
    maxLength: 120,
    nullable: true,
    type: String,
    description:
      'Five-field cron expression in UTC (minute hour day month weekday); not with interval',
  })
  @IsOptional()
  @IsString()
  @MaxLength(120)
  @IsCronSchedule()
  schedule?: string | null;

  @ApiPropertyOptional({ type: RotationWindowDto, nullable: true })
  @IsOptional()
  @ValidateNested()
  @Type(() => RotationWindowDto)
  window?: RotationWindowDto | null;

  @ApiPropertyOptional({
    example: 'PT24H',
    maxLength: 32,
    nullable: true,
    type: String,
    description:
      'How long the old value stays valid after a rotation; no longer than the time between rotations. Default: per credential type',
  })
  @IsOptional()
  @MaxLength(32)
  @IsPolicyDuration()
  gracePeriod?: string | null;

  @ApiPropertyOptional({
    example: 'PT15M',
    maxLength: 32,
    nullable: true,
    type: String,
    description: 'Added to every due time, so that paired credentials never rotate together',
  })
  @IsOptional()
  @MaxLength(32)
  @IsPolicyDuration()
  offset?: string | null;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    example: { kind: 'generated' },
    description:
      'The rotator and its settings: {"kind": "generated"} (new random value from generator), {"kind": "manual"} (a person writes it), {"kind": "mariadb", "adminCredentialId", "host", "users": [userA, userB], …} (a MariaDB user’s password, two users taking turns) or {"kind": "webhook", "url", "verifyUrl"?, "verifyMethod"?, "secretCredentialId", "timeoutMs"?} (a generated value delivered to a signed HTTPS endpoint); every rotator’s settings are listed by GET /rotations/rotators',
  })
  @IsRotatorSettings()
  rotator!: RotatorSettings;

  @ApiPropertyOptional({
    type: GeneratorSpecDto,
    nullable: true,
    description: 'For the generated rotator; its default depends on the credential type',
  })
  @IsOptional()
  @ValidateNested()
  @Type(() => GeneratorSpecDto)
  generator?: GeneratorSpecDto | null;

  @ApiPropertyOptional({
    example: false,
    default: false,
    description:
      "End the old value's grace early once every known consumer (a principal that revealed the credential in the adoption window before the rotation) has revealed the new one; the sweep then revokes it",
  })
  @IsOptionalNotNull()
  @IsBoolean()
  endGraceOnFullAdoption?: boolean;
}

/** A policy for every credential under a path pattern that has no policy of its own. */
export class PatternPolicyWriteDto extends RotationPolicyWriteDto {
  @ApiProperty({
    example: 'acme/prod/**',
    maxLength: MAX_PATH_LENGTH,
    description: `${PATH_PATTERN_HELP} One policy per pattern: a PUT replaces it.`,
  })
  @IsString()
  @IsPathPattern()
  pathPattern!: string;
}
