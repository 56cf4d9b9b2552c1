import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsBoolean,
  IsIn,
  IsISO8601,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';
import { IsPageCursor, PageCursor } from '../../common/pagination/page-cursor';
import { IsOptionalNotNull } from '../../common/validation/is-optional-not-null';
import { QueryInteger } from '../../common/validation/query-transforms';
import type { Incident } from '../entities/incident.entity';
import {
  INCIDENT_SEVERITIES,
  INCIDENT_STATUSES,
  INCIDENT_TYPES,
  type IncidentSeverity,
  type IncidentStatus,
  type IncidentType,
} from '../incident-vocabulary';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** Newest detection first; a cursor holds the last row's detected_at and id. */
export const INCIDENT_CURSOR = new PageCursor('incidents', (key) => {
  const [at, id] = key.split('|');
  return ISO.test(at ?? '') && UUID.test(id ?? '');
});
export const INCIDENT_PAGE_MAX = 200;
export const INCIDENT_PAGE_DEFAULT = 50;

export class IncidentCreateDto {
  @ApiProperty({ enum: INCIDENT_TYPES })
  @IsIn(INCIDENT_TYPES)
  type!: IncidentType;

  @ApiProperty({ enum: INCIDENT_SEVERITIES })
  @IsIn(INCIDENT_SEVERITIES)
  severity!: IncidentSeverity;

  @ApiProperty({ example: 'Billing API key pasted in a public gist' })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  title!: string;

  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(20000) description?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(20000) findings?: string;

  @ApiPropertyOptional({ description: 'Remediation steps, as free text' })
  @IsOptional()
  @IsString()
  @MaxLength(20000)
  remediation?: string;

  @ApiPropertyOptional({ description: 'The affected client or service, free text' })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  affected?: string;

  @ApiPropertyOptional({ description: 'A user id' })
  @IsOptional()
  @IsUUID()
  assigneeId?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Defaults to now' })
  @IsOptional()
  @IsISO8601({ strict: true })
  detectedAt?: string;

  @ApiPropertyOptional({
    default: false,
    description: 'Refuse reveals of linked credentials to all but admins while open',
  })
  @IsOptional()
  @IsBoolean()
  freeze?: boolean;
}

export class IncidentUpdateDto {
  @ApiPropertyOptional({ enum: INCIDENT_SEVERITIES })
  @IsOptionalNotNull()
  @IsIn(INCIDENT_SEVERITIES)
  severity?: IncidentSeverity;

  @ApiPropertyOptional()
  @IsOptionalNotNull()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  title?: string;

  @ApiPropertyOptional({ nullable: true, type: String })
  @IsOptional()
  @IsString()
  @MaxLength(20000)
  description?: string | null;

  @ApiPropertyOptional({ nullable: true, type: String })
  @IsOptional()
  @IsString()
  @MaxLength(20000)
  findings?: string | null;

  @ApiPropertyOptional({ nullable: true, type: String })
  @IsOptional()
  @IsString()
  @MaxLength(20000)
  remediation?: string | null;

  @ApiPropertyOptional({ nullable: true, type: String })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  affected?: string | null;

  @ApiPropertyOptional({ nullable: true, type: String, description: 'A user id; null unassigns' })
  @IsOptional()
  @IsUUID()
  assigneeId?: string | null;

  @ApiPropertyOptional({ description: 'Set or lift the freeze of linked credentials’ reveals' })
  @IsOptionalNotNull()
  @IsBoolean()
  freeze?: boolean;
}

export class IncidentListQueryDto {
  @ApiPropertyOptional({ enum: INCIDENT_STATUSES })
  @IsOptional()
  @IsIn(INCIDENT_STATUSES)
  status?: IncidentStatus;

  @ApiPropertyOptional({ enum: INCIDENT_TYPES })
  @IsOptional()
  @IsIn(INCIDENT_TYPES)
  type?: IncidentType;

  @ApiPropertyOptional({ enum: INCIDENT_SEVERITIES })
  @IsOptional()
  @IsIn(INCIDENT_SEVERITIES)
  severity?: IncidentSeverity;

  @ApiPropertyOptional({ description: 'A user id' })
  @IsOptional()
  @IsUUID()
  assignee?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Detected at or after' })
  @IsOptional()
  @IsISO8601({ strict: true })
  from?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Detected before' })
  @IsOptional()
  @IsISO8601({ strict: true })
  to?: string;

  @ApiPropertyOptional({ default: INCIDENT_PAGE_DEFAULT, maximum: INCIDENT_PAGE_MAX })
  @IsOptional()
  @QueryInteger()
  @IsInt()
  @Min(1)
  @Max(INCIDENT_PAGE_MAX)
  limit?: number;

  @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
  @IsOptional()
  @IsPageCursor(INCIDENT_CURSOR)
  cursor?: string;
}

export class IncidentResponseDto {
  @ApiProperty() id!: string;
  @ApiProperty({ enum: INCIDENT_TYPES }) type!: IncidentType;
  @ApiProperty({ enum: INCIDENT_SEVERITIES }) severity!: IncidentSeverity;
  @ApiProperty({ enum: INCIDENT_STATUSES }) status!: IncidentStatus;
  @ApiProperty() title!: string;
  @ApiProperty({ nullable: true, type: String }) description!: string | null;
  @ApiProperty({ nullable: true, type: String }) findings!: string | null;
  @ApiProperty({ nullable: true, type: String }) remediation!: string | null;
  @ApiProperty({ nullable: true, type: String }) affected!: string | null;
  @ApiProperty({ nullable: true, type: String }) assigneeId!: string | null;
  @ApiProperty({ format: 'date-time' }) detectedAt!: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) containedAt!: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) resolvedAt!: string | null;
  @ApiProperty({ nullable: true, type: String }) dedupeKey!: string | null;
  @ApiProperty() freeze!: boolean;
  @ApiProperty({ nullable: true, type: String }) createdBy!: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
  @ApiProperty({ description: 'Send it as If-Match to PATCH only if unchanged' })
  rowVersion!: number;

  static from(incident: Incident): IncidentResponseDto {
    return {
      id: incident.id,
      type: incident.type,
      severity: incident.severity,
      status: incident.status,
      title: incident.title,
      description: incident.description,
      findings: incident.findings,
      remediation: incident.remediation,
      affected: incident.affected,
      assigneeId: incident.assigneeId,
      detectedAt: incident.detectedAt.toISOString(),
      containedAt: incident.containedAt?.toISOString() ?? null,
      resolvedAt: incident.resolvedAt?.toISOString() ?? null,
      dedupeKey: incident.dedupeKey,
      freeze: incident.freeze,
      createdBy: incident.createdBy,
      createdAt: incident.createdAt.toISOString(),
      updatedAt: incident.updatedAt.toISOString(),
      rowVersion: incident.rowVersion,
    };
  }
}

export class IncidentPageDto {
  @ApiProperty({ type: [IncidentResponseDto] }) items!: IncidentResponseDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;
}
