import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayNotEmpty,
  ArrayUnique,
  IsArray,
  IsIn,
  IsInt,
  IsOptional,
  Matches,
  Max,
  Min,
  ValidateIf,
} from 'class-validator';
import {
  CHARACTER_CLASSES,
  CharacterClass,
  GENERATOR_FORMATS,
  GeneratorFormat,
} from '../../generator/generator-spec';
import { FitsGeneratorClasses, NoLengthForUuid } from './policy-validators';

export const GENERATOR_MIN_LENGTH = 8;
export const GENERATOR_MAX_LENGTH = 256;

/** How a `generated` rotation makes each new value. */
export class GeneratorSpecDto {
  @ApiProperty({ enum: GENERATOR_FORMATS, example: 'password' })
  @IsIn(GENERATOR_FORMATS)
  format!: GeneratorFormat;

  @ApiPropertyOptional({
    minimum: GENERATOR_MIN_LENGTH,
    maximum: GENERATOR_MAX_LENGTH,
    example: 32,
    description: 'Characters of the random part, prefix not counted; required except for uuid',
  })
  @ValidateIf((spec: GeneratorSpecDto) => spec.format !== 'uuid' || spec.length !== undefined)
  @NoLengthForUuid()
  @IsInt()
  @Min(GENERATOR_MIN_LENGTH)
  @Max(GENERATOR_MAX_LENGTH)
  length?: number;

  @ApiPropertyOptional({
    enum: CHARACTER_CLASSES,
    isArray: true,
    uniqueItems: true,
    example: ['lower', 'upper', 'digits', 'symbols'],
    description: 'password only: each class appears at least once (default: all four)',
  })
  @IsOptional()
  @IsArray()
  @ArrayNotEmpty()
  @ArrayUnique()
  @IsIn(CHARACTER_CLASSES, { each: true })
  @FitsGeneratorClasses()
  classes?: CharacterClass[];

  @ApiPropertyOptional({
    maxLength: 32,
    example: 'ck_live_',
    description: "Put before the random part: up to 32 of A-Z, a-z, 0-9, '_', '-'",
  })
  @IsOptional()
  @Matches(/^[A-Za-z0-9_-]{1,32}$/, {
    message: "prefix must be 1 to 32 characters of A-Z, a-z, 0-9, '_' and '-'",
  })
  prefix?: string;
}
