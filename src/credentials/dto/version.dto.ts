import { ApiProperty } from '@nestjs/swagger';
import { VERSION_STATES, VersionState } from '../entities/credential-version.entity';

export class VersionResponseDto {
  @ApiProperty() version!: number;
  @ApiProperty({ enum: VERSION_STATES }) state!: VersionState;
  @ApiProperty({ description: 'Whether reveal can return it now' }) revealable!: boolean;
  @ApiProperty({ nullable: true, type: String, description: 'Master key wrapping its data key' })
  keyId!: string | null;
  @ApiProperty({ nullable: true, type: String }) createdBy!: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) graceUntil!: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) revokedAt!: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) destroyedAt!: string | null;
}

export class VersionListDto {
  @ApiProperty({ type: [VersionResponseDto] }) items!: VersionResponseDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: null;
}
