import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, Matches } from 'class-validator';
import type { KeyReport, KeyStatus, RewrapProgress } from './key-rotation.service';

export class KeyRotateDto {
  @ApiPropertyOptional({
    description:
      'The configured key to activate; default: the one configured key not yet in the keyring',
    example: 'k2',
  })
  @IsOptional()
  @Matches(/^[a-z0-9][a-z0-9-]{0,31}$/, { message: 'keyId must be a key id such as k2' })
  keyId?: string;
}

class RewrapProgressDto {
  @ApiProperty({ enum: ['idle', 'running', 'done', 'failed'] }) state!: RewrapProgress['state'];
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) startedAt!: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) finishedAt!: string | null;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'number' } })
  rewrapped!: Record<string, number>;
  @ApiProperty({ nullable: true, type: String }) error!: string | null;
}

class KeyReportDto {
  @ApiProperty() id!: string;
  @ApiProperty({ enum: ['active', 'retired', 'not-enrolled'] }) status!: KeyReport['status'];
  @ApiProperty({ description: 'Whether this instance holds the key' }) configured!: boolean;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) createdAt!: string | null;
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'number' },
    description: 'Items it still protects, e.g. secretVersions, totpSecrets',
  })
  references!: Record<string, number>;
  @ApiProperty({
    description: 'No secret is wrapped by it: it can be removed from the configuration',
  })
  removable!: boolean;
  @ApiProperty({ description: 'Audit events are signed with it; audit verify needs it for them' })
  signsAuditEvents!: boolean;
  @ApiProperty() note!: string;
}

export class KeyStatusDto {
  @ApiProperty() activeKeyId!: string;
  @ApiProperty({ description: 'Items still under a key other than the active one' })
  remaining!: number;
  @ApiProperty({ type: RewrapProgressDto }) rewrap!: RewrapProgressDto;
  @ApiProperty({ type: [KeyReportDto] }) keys!: KeyReportDto[];

  static from(status: KeyStatus): KeyStatusDto {
    return {
      ...status,
      rewrap: {
        ...status.rewrap,
        startedAt: status.rewrap.startedAt?.toISOString() ?? null,
        finishedAt: status.rewrap.finishedAt?.toISOString() ?? null,
      },
      keys: status.keys.map((key) => ({ ...key, createdAt: key.createdAt?.toISOString() ?? null })),
    };
  }
}
