import { ApiProperty } from '@nestjs/swagger';
import {
  CREDENTIAL_STATUSES,
  Credential,
  CredentialStatus,
  JsonObject,
  ROTATION_STATUSES,
  RotationStatus,
} from '../entities/credential.entity';
import { CREDENTIAL_TYPES, CredentialType } from '../secrets/credential-type';

/** A credential's metadata: never its secret, ciphertext or keys. */
export class CredentialResponseDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'acme/prod/mysql-root' }) path!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: CREDENTIAL_TYPES }) type!: CredentialType;
  @ApiProperty({ nullable: true, type: String }) description!: string | null;
  @ApiProperty({ nullable: true, type: String }) username!: string | null;
  @ApiProperty({ nullable: true, type: String }) url!: string | null;
  @ApiProperty({ nullable: true, type: String }) host!: string | null;
  @ApiProperty({ nullable: true, type: Number }) port!: number | null;
  @ApiProperty({ nullable: true, type: String }) owner!: string | null;
  @ApiProperty({ type: [String] }) tags!: string[];
  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true })
  metadata!: JsonObject | null;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    nullable: true,
    description: 'Non-secret facts read from the secret: certificate subject and dates, key type…',
  })
  secretInfo!: JsonObject | null;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) expiresAt!: string | null;
  @ApiProperty({ enum: CREDENTIAL_STATUSES }) status!: CredentialStatus;
  @ApiProperty({ description: 'Send it as If-Match to change the secret only if unchanged' })
  currentVersion!: number;
  @ApiProperty({ nullable: true, type: String }) createdBy!: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) deletedAt!: string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    format: 'date-time',
    description: 'When the scheduler rotates it next; null without an enabled rotation policy',
  })
  nextRotationAt!: string | null;
  @ApiProperty({
    enum: ROTATION_STATUSES,
    description:
      'none (no policy), scheduled, rotating (a run is open), awaiting_value (a person must write the new value), failed (the last run failed; retried at nextRotationAt) or disabled',
  })
  rotationStatus!: RotationStatus;

  static from(c: Credential): CredentialResponseDto {
    return {
      id: c.id,
      path: c.path,
      name: c.name,
      type: c.type,
      description: c.description,
      username: c.username,
      url: c.url,
      host: c.host,
      port: c.port,
      owner: c.owner,
      tags: c.tags ? c.tags.split(',') : [],
      metadata: c.metadata,
      secretInfo: c.secretInfo,
      expiresAt: c.expiresAt?.toISOString() ?? null,
      status: c.status,
      currentVersion: c.currentVersion,
      createdBy: c.createdBy,
      createdAt: c.createdAt.toISOString(),
      updatedAt: c.updatedAt.toISOString(),
      deletedAt: c.deletedAt?.toISOString() ?? null,
      nextRotationAt: c.nextRotationAt?.toISOString() ?? null,
      rotationStatus: c.rotationStatus,
    };
  }
}

export class CredentialPageDto {
  @ApiProperty({ type: [CredentialResponseDto] }) items!: CredentialResponseDto[];
  @ApiProperty({ nullable: true, type: String, description: 'Pass as cursor for the next page' })
  nextCursor!: string | null;
  @ApiProperty({ description: 'How many credentials match the filters and are visible to you' })
  total!: number;
}
