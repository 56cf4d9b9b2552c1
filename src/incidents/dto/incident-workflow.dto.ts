import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayNotEmpty,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { Type } from 'class-transformer';
import { IsPageCursor, PageCursor } from '../../common/pagination/page-cursor';
import { QueryInteger } from '../../common/validation/query-transforms';
import type { IncidentTimelineEntry } from '../entities/incident-timeline-entry.entity';
import { TIMELINE_PROBLEMS, type TimelineProblemKind } from '../timeline-integrity';
import {
  INCIDENT_PRINCIPAL_TYPES,
  INCIDENT_STATUSES,
  TIMELINE_KINDS,
  type IncidentPrincipalType,
  type IncidentStatus,
  type TimelineKind,
} from '../incident-vocabulary';

/** Something to read: a note of only spaces or line breaks says nothing in the timeline. */
const NOT_BLANK = /\S/;
const NOT_BLANK_MESSAGE = (field: string) => ({ message: `${field} must not be blank` });

export class IncidentTransitionDto {
  @ApiProperty({
    enum: INCIDENT_STATUSES,
    description:
      'investigating → contained → monitoring → resolved; contained → resolved; monitoring or resolved → investigating',
  })
  @IsIn(INCIDENT_STATUSES)
  to!: IncidentStatus;

  @ApiProperty({ description: 'Why: required, not blank; it goes to the timeline' })
  @IsString()
  @MinLength(1)
  @MaxLength(4000)
  @Matches(NOT_BLANK, NOT_BLANK_MESSAGE('note'))
  note!: string;
}

export class IncidentCommentDto {
  @ApiProperty({ description: 'Not blank' })
  @IsString()
  @MinLength(1)
  @MaxLength(4000)
  @Matches(NOT_BLANK, NOT_BLANK_MESSAGE('text'))
  text!: string;
}

export class IncidentCredentialsDto {
  @ApiProperty({ type: [String], description: 'Credential ids' })
  @IsArray()
  @ArrayNotEmpty()
  @ArrayMaxSize(500)
  @IsUUID('4', { each: true })
  credentialIds!: string[];
}

export class PrincipalRefDto {
  @ApiProperty({ enum: INCIDENT_PRINCIPAL_TYPES })
  @IsIn(INCIDENT_PRINCIPAL_TYPES)
  type!: IncidentPrincipalType;

  @ApiProperty()
  @IsUUID('4')
  id!: string;
}

export class IncidentPrincipalsDto {
  @ApiProperty({ type: [PrincipalRefDto] })
  @IsArray()
  @ArrayNotEmpty()
  @ArrayMaxSize(100)
  @ValidateNested({ each: true })
  @Type(() => PrincipalRefDto)
  principals!: PrincipalRefDto[];
}

export class IncidentScopeDto {
  @ApiProperty({ type: [String] }) credentialIds!: string[];
  @ApiProperty({ type: [PrincipalRefDto] }) principals!: PrincipalRefDto[];
}

export class IncidentContainDto {
  @ApiPropertyOptional({ description: 'Goes to the timeline; not blank when given' })
  @IsOptional()
  @IsString()
  @MaxLength(4000)
  @Matches(NOT_BLANK, NOT_BLANK_MESSAGE('note'))
  note?: string;

  @ApiPropertyOptional({
    description:
      'Refuse reveals of the linked credentials to all but admins until the incident leaves investigating/contained',
  })
  @IsOptional()
  @IsBoolean()
  freeze?: boolean;
}

/** A timeline page: entries in order; a cursor holds the last entry's seq. */
export const TIMELINE_CURSOR = new PageCursor('incident-timeline', (key) => /^\d{1,9}$/.test(key));
export const TIMELINE_PAGE_MAX = 500;
export const TIMELINE_PAGE_DEFAULT = 100;

export class TimelineQueryDto {
  @ApiPropertyOptional({ default: TIMELINE_PAGE_DEFAULT, maximum: TIMELINE_PAGE_MAX })
  @IsOptional()
  @QueryInteger()
  @IsInt()
  @Min(1)
  @Max(TIMELINE_PAGE_MAX)
  limit?: number;

  @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
  @IsOptional()
  @IsPageCursor(TIMELINE_CURSOR)
  cursor?: string;
}

export class TimelineEntryDto {
  @ApiProperty() seq!: number;
  @ApiProperty({ enum: TIMELINE_KINDS }) kind!: TimelineKind;
  @ApiProperty({ example: { type: 'user', id: '…', display: 'ops@example.com' } })
  actor!: { type: string; id: string | null; display: string | null };
  @ApiProperty({ nullable: true, type: String }) text!: string | null;
  @ApiProperty({ type: Object }) details!: Record<string, unknown>;
  @ApiProperty({ description: 'The audit event written with this entry' }) auditSeq!: string;
  @ApiProperty({ format: 'date-time' }) occurredAt!: string;
  @ApiPropertyOptional({
    description:
      'Where the timeline is read (timeline, export): whether this entry matches its audit event, ' +
      'itself intact; false entries are listed in integrity.problems',
  })
  verified?: boolean;

  static from(entry: IncidentTimelineEntry, verified?: boolean): TimelineEntryDto {
    return {
      seq: entry.seq,
      kind: entry.kind,
      actor: { type: entry.actorType, id: entry.actorId, display: entry.actorDisplay },
      text: entry.text,
      details: JSON.parse(entry.details) as Record<string, unknown>,
      auditSeq: String(entry.auditSeq),
      occurredAt: entry.occurredAt.toISOString(),
      ...(verified === undefined ? {} : { verified }),
    };
  }
}

export class TimelineProblemDto {
  @ApiProperty({ nullable: true, type: Number, description: "The entry's seq" })
  seq!: number | null;
  @ApiProperty({ nullable: true, type: String }) auditSeq!: string | null;
  @ApiProperty({
    enum: TIMELINE_PROBLEMS,
    description:
      'altered: the row differs from what its audit event recorded; unrecorded: the row has no ' +
      'audit event of this timeline (inserted by hand); missing: an audit event or a gap in the ' +
      'numbering shows an entry deleted; event_altered: the audit event no longer matches its ' +
      'hash; unverifiable: sealed under a master key this instance does not hold',
  })
  problem!: TimelineProblemKind;
}

export class TimelineIntegrityDto {
  @ApiProperty({ description: 'Every entry of the page matches its audit event; none is missing' })
  ok!: boolean;
  @ApiProperty({ description: 'Entries checked' }) checked!: number;
  @ApiProperty({ type: [TimelineProblemDto] }) problems!: TimelineProblemDto[];
}

export class TimelinePageDto {
  @ApiProperty({ type: [TimelineEntryDto] }) items!: TimelineEntryDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;
  @ApiProperty({
    type: TimelineIntegrityDto,
    description: "This page checked against the audit chain's events of the incident",
  })
  integrity!: TimelineIntegrityDto;
}
