import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsInt,
  IsISO8601,
  IsOptional,
  Matches,
  Max,
  Min,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import {
  CHECKPOINT_ALGORITHMS,
  CheckpointAlgorithm,
  CheckpointStatement,
} from '../chain/checkpoint-signature';

const SEQ = /^(0|[1-9][0-9]{0,18})$/;
const SEQ_MESSAGE = (field: string): string => `${field} must be a sequence number in a string`;
const HASH = /^[0-9a-f]{64}$/;
/** Ed25519 signatures in base64, legacy HMAC signatures in hex: both fit this alphabet. */
const SIGNATURE = /^[A-Za-z0-9+/]{1,126}={0,2}$/;
const MAX_LANES = 64;

/** Null is a value here (an empty lane, an empty log), so only a present value is checked. */
const unlessNull = ValidateIf((_object: unknown, value: unknown) => value !== null);

export class AuditCheckpointLaneDto {
  @ApiProperty({ minimum: 0, maximum: MAX_LANES - 1 })
  @IsInt()
  @Min(0)
  @Max(MAX_LANES - 1)
  lane!: number;

  @ApiProperty({ description: 'The lane_seq of the lane head it saw (string: 64-bit)' })
  @Matches(SEQ, { message: SEQ_MESSAGE('laneSeq') })
  laneSeq!: string;

  @ApiProperty({ nullable: true, type: String, description: 'The seq of that event' })
  @unlessNull
  @Matches(SEQ, { message: SEQ_MESSAGE('seq') })
  seq!: string | null;

  @ApiProperty({ nullable: true, type: String, description: 'The hash of that event' })
  @unlessNull
  @Matches(HASH, { message: 'hash must be 64 lower-case hex digits' })
  hash!: string | null;
}

/** An `audit.checkpoint` line as the sinks receive it. */
export class AuditCheckpointStatementDto {
  @ApiPropertyOptional({ enum: ['audit.checkpoint'] })
  @IsOptional()
  @IsIn(['audit.checkpoint'])
  type?: 'audit.checkpoint';

  @ApiProperty({ example: '42' })
  @Matches(SEQ, { message: SEQ_MESSAGE('id') })
  id!: string;

  @ApiProperty({ format: 'date-time' })
  @IsISO8601({ strict: true, strictSeparator: true })
  createdAt!: string;

  @ApiProperty({ nullable: true, type: String })
  @unlessNull
  @Matches(SEQ, { message: SEQ_MESSAGE('headSeq') })
  headSeq!: string | null;

  @ApiProperty({ type: [AuditCheckpointLaneDto] })
  @IsArray()
  @ArrayMaxSize(MAX_LANES)
  @ValidateNested({ each: true })
  @Type(() => AuditCheckpointLaneDto)
  lanes!: AuditCheckpointLaneDto[];

  @ApiProperty({ example: 'k1', description: 'The master key id whose key pair signed it' })
  @Matches(/^[a-z0-9][a-z0-9-]{0,31}$/, { message: 'keyId must be a key id such as k1' })
  keyId!: string;

  @ApiPropertyOptional({
    enum: CHECKPOINT_ALGORITHMS,
    description: 'Absent on lines written before Ed25519 signing: HMAC-SHA256',
  })
  @IsOptional()
  @IsIn(CHECKPOINT_ALGORITHMS)
  algorithm?: CheckpointAlgorithm;

  @ApiProperty({ description: 'Ed25519: base64; HMAC-SHA256: hex' })
  @Matches(SIGNATURE, { message: 'signature must be base64 or hex' })
  signature!: string;
}

export class AuditVerifyRequestDto {
  @ApiPropertyOptional({
    type: AuditCheckpointStatementDto,
    description:
      'A checkpoint kept outside the database (the last `audit.checkpoint` line a sink received): its signature is checked, and every lane head it states must still be in the chain',
  })
  @IsOptional()
  @ValidateNested()
  @Type(() => AuditCheckpointStatementDto)
  checkpoint?: AuditCheckpointStatementDto;
}

export function toCheckpointStatement(dto: AuditCheckpointStatementDto): CheckpointStatement {
  return {
    id: dto.id,
    createdAt: new Date(dto.createdAt),
    headSeq: dto.headSeq,
    lanes: dto.lanes.map(({ lane, laneSeq, seq, hash }) => ({ lane, laneSeq, seq, hash })),
    keyId: dto.keyId,
    algorithm: dto.algorithm ?? 'HMAC-SHA256',
    signature: dto.signature,
  };
}

export class AuditPublicKeyDto {
  @ApiProperty({ example: 'k1', description: 'The master key id the key pair is derived from' })
  keyId!: string;
  @ApiProperty({ enum: ['Ed25519'] }) algorithm!: 'Ed25519';
  @ApiProperty({ description: 'SubjectPublicKeyInfo, PEM-encoded' }) publicKey!: string;
  @ApiProperty({ description: 'Signs new checkpoints' }) active!: boolean;
}

export class AuditPublicKeysResponseDto {
  @ApiProperty({ example: 'k1', description: 'The key id new checkpoints are signed with' })
  keyId!: string;
  @ApiProperty({ enum: ['Ed25519'] }) algorithm!: 'Ed25519';
  @ApiProperty({ description: 'The active public key, SubjectPublicKeyInfo, PEM-encoded' })
  publicKey!: string;
  @ApiProperty({
    type: [AuditPublicKeyDto],
    description: 'Every key id this instance holds, for checkpoints signed before a rotation',
  })
  keys!: AuditPublicKeyDto[];
}
