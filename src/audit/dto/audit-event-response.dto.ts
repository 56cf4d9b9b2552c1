import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { AuditEventRecord } from '../audit-event.record';

class AuditActorDto {
  @ApiProperty({ enum: ['user', 'service', 'system', 'anonymous'] }) type!: string;
  @ApiProperty({ nullable: true, type: String }) id!: string | null;
  @ApiProperty({ nullable: true, type: String }) display!: string | null;
}

class AuditResourceDto {
  @ApiProperty({ nullable: true, type: String }) type!: string | null;
  @ApiProperty({ nullable: true, type: String }) id!: string | null;
}

class AuditChainDto {
  @ApiProperty() lane!: number;
  @ApiProperty() laneSeq!: string;
  @ApiProperty() keyId!: string;
  @ApiProperty({ nullable: true, type: String }) prevHash!: string | null;
  @ApiProperty() hash!: string;
}

export class AuditEventResponseDto implements AuditEventRecord {
  @ApiProperty({ description: 'Global sequence (string: 64-bit)' }) seq!: string;
  @ApiProperty({ format: 'date-time' }) occurredAt!: string;
  @ApiProperty({ type: AuditActorDto }) actor!: AuditActorDto;
  @ApiProperty({ nullable: true, type: String }) ip!: string | null;
  @ApiProperty({ nullable: true, type: String }) userAgent!: string | null;
  @ApiProperty({ nullable: true, type: String }) requestId!: string | null;
  @ApiProperty({ example: 'credential.reveal' }) action!: string;
  @ApiProperty({ type: AuditResourceDto }) resource!: AuditResourceDto;
  @ApiProperty({ enum: ['success', 'denied', 'invalid', 'error'] }) outcome!: string;
  @ApiProperty({ nullable: true, type: Number }) httpStatus!: number | null;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'Sanitized: never a secret value',
  })
  details!: Record<string, unknown>;
  @ApiProperty({ type: AuditChainDto }) chain!: AuditChainDto;
}

export class AuditEventPageDto {
  @ApiProperty({ type: [AuditEventResponseDto] }) items!: AuditEventResponseDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;
}

export class AuditVerifyResponseDto {
  @ApiProperty() ok!: boolean;
  @ApiProperty({ description: 'Events checked and found intact' }) verified!: number;
  @ApiProperty({
    nullable: true,
    type: String,
    description:
      'The last event verify covered: each lane is read in one snapshot, so events written meanwhile are left to the next run',
  })
  headSeq!: string | null;
  @ApiPropertyOptional({ description: 'The first event (by seq) where the chain is broken' })
  firstBadSeq?: string;
  @ApiPropertyOptional() reason?: string;
}
