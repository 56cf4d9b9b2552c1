import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsISO8601, IsOptional } from 'class-validator';

export class BlastRadiusQueryDto {
  @ApiPropertyOptional({
    description: 'Start of the window (ISO 8601); default 30 days before the incident was detected',
    format: 'date-time',
  })
  @IsOptional()
  @IsISO8601({ strict: true })
  since?: string;
}
