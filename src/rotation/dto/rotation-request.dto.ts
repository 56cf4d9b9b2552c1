import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import { IsPathPattern } from '../../auth/grants/is-path-pattern';

export class RotateRequestDto {
  @ApiPropertyOptional({
    default: false,
    description: 'Grace 0: the old value is revoked in the same transaction as the switch',
  })
  @IsOptional()
  @IsBoolean()
  emergency?: boolean;

  @ApiPropertyOptional({ maxLength: 500, example: 'Key pasted in a support ticket' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(500)
  reason?: string;
}

export class EmergencyRotationDto {
  @ApiProperty({ example: 'acme/prod/*', description: 'Every active credential it matches' })
  @IsPathPattern()
  pathPattern!: string;

  @ApiProperty({ maxLength: 500, example: 'Laptop of an admin stolen' })
  @IsString()
  @MinLength(1)
  @MaxLength(500)
  reason!: string;
}
